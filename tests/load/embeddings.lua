-- The gateway's work: an authenticated, rate-limited embeddings call relayed to a model server (bare Kestrel).
wrk.method = "POST"
wrk.path = "/v1/embeddings"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "gw-demo-team-a-key"
wrk.body = '{"model":"toy-embed","input":"the quick brown fox"}'
