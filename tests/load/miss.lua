-- Unique prediction bodies: every request is a cache miss. A nonce per run keeps bodies of earlier runs (which the
-- cache may still hold) from turning into hits.
local thread_id = 0
local counter = 0
local nonce = ""
function setup(thread)
  thread_id = thread_id + 1
  thread:set("id", thread_id)
end
function init(args)
  counter = 0
  math.randomseed(os.time() * 1000 + id)
  nonce = tostring(os.time()) .. "." .. tostring(math.random(1, 1000000000))
end
function request()
  counter = counter + 1
  local body = '{"model":"m","input":"unique input ' .. nonce .. '-' .. tostring(id) .. '-' .. counter .. ' is good"}'
  return wrk.format("POST", "/v1/predict", { ["Content-Type"] = "application/json" }, body)
end
