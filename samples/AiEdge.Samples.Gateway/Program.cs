using AiEdge.Samples.Gateway;

// An AiEdge-fronted gateway for a pool of OpenAI-compatible model servers (vLLM) and a vector database (Qdrant):
// the in-process replacement of an NGINX `upstream vllm_service { ... }` / `upstream qdrant_service { ... }` gateway.
// Every setting is in appsettings.json (section "AiEdge"); README.md shows the NGINX configuration it replaces.
var builder = WebApplication.CreateBuilder(args);

builder.Services.AddAiEdge(edge => edge
    .AddAccessLog()                                  // log_format main_ext ... ua="$upstream_addr" us="$upstream_status"
    .AddEdgeAuthentication()                         // map $http_authorization $api_key_valid + return 401
    .AddBodyLimits()                                 // client_max_body_size
    .AddStreaming()                                  // proxy_buffering off for token streams
    .AddRateLimiting()                               // limit_req_zone / limit_req, plus an LLM token budget
    .AddRedis()                                      // shared limits across gateway replicas (AiEdge:Redis:Configuration)
    .AddGatewayBackends());                          // upstream blocks: weighted pools, breakers, active checks

var app = builder.Build();

app.UseAiEdge();                                     // forwarded headers, security headers, /healthz, /readyz, ...

// location /v1/ { proxy_pass http://vllm_service; }: every OpenAI-compatible route (models, embeddings, ...).
app.Map("/v1/{**path}", (HttpContext context, GatewayBackends backends, string? path) =>
        GatewayProxy.ForwardAsync(context, backends.Vllm, "v1/" + path))
    .RequireAuthenticatedCaller()
    .WithRateLimitTier("api");

// Generation routes: a stricter tier with a token budget; `stream: true` answers are relayed event by event.
app.MapPost("/v1/chat/completions", (HttpContext context, GatewayBackends backends) =>
        GatewayProxy.ForwardAsync(context, backends.Vllm, "v1/chat/completions"))
    .RequireAuthenticatedCaller()
    .WithRateLimitTier("generate");
app.MapPost("/v1/completions", (HttpContext context, GatewayBackends backends) =>
        GatewayProxy.ForwardAsync(context, backends.Vllm, "v1/completions"))
    .RequireAuthenticatedCaller()
    .WithRateLimitTier("generate");

// location /qdrant/ { rewrite ^/qdrant/?(.*)$ /$1 break; proxy_pass http://qdrant_service; }
app.Map("/qdrant/{**path}", (HttpContext context, GatewayBackends backends, string? path) =>
        GatewayProxy.ForwardAsync(context, backends.Qdrant, path ?? string.Empty))
    .RequireScopes("vectors")
    .WithRateLimitTier("vectors");

app.Run();

/// <summary>The gateway application (visible to its tests).</summary>
public partial class Program;
