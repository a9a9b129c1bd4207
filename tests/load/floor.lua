-- Kestrel's floor: an empty 200 through routing on the bare app (no body, no handler work). No handler inside
-- Kestrel can serve more requests per second than this on the same machine.
wrk.method = "GET"
wrk.path = "/healthz"
