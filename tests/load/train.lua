-- A rate-limited endpoint that is never cached: isolates the cost of the limit decision (in memory or in Redis).
wrk.method = "POST"
wrk.path = "/v1/train"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"dataset":"d","epochs":1}'
