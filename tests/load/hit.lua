-- One repeated prediction body: after the first request every request is a cache hit.
wrk.method = "POST"
wrk.path = "/v1/predict"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"m","input":"the same input every time is great"}'
