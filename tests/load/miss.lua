-- Unique prediction bodies: every request is a cache miss.
local thread_id = 0
local counter = 0
function setup(thread)
  thread_id = thread_id + 1
  thread:set("id", thread_id)
end
function init(args)
  counter = 0
end
function request()
  counter = counter + 1
  local body = '{"model":"m","input":"unique input ' .. tostring(id) .. '-' .. counter .. ' is good"}'
  return wrk.format("POST", "/v1/predict", { ["Content-Type"] = "application/json" }, body)
end
