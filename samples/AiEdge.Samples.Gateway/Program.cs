using Yarp.ReverseProxy.Transforms;

// An AiEdge-fronted YARP gateway for OpenAI-compatible model servers (vLLM) and a vector database (Qdrant): the
// in-process replacement of the NGINX `upstream vllm_service { ... }` / `upstream qdrant_service { ... }` gateway.
// YARP proxies (section "ReverseProxy": routes, clusters, destinations, balancing, active health checks); AiEdge
// guards (section "AiEdge": API keys, tiers, token budget, body limits, breakers). README.md shows the NGINX config.
var builder = WebApplication.CreateBuilder(args);

builder.Services.AddAiEdge(edge => edge
    .AddAccessLog()                                  // log_format main_ext ... + access_log
    .AddEdgeAuthentication()                         // map $http_authorization $api_key_valid + return 401
    .AddBodyLimits()                                 // client_max_body_size
    .AddStreaming()                                  // proxy_buffering off for token streams
    .AddRateLimiting()                               // limit_req_zone / limit_req, plus an LLM token budget
    .AddRedis());                                    // shared limits across gateway replicas (AiEdge:Redis:Configuration)

builder.Services.AddReverseProxy()                   // upstream blocks, proxy_pass, least_conn / weight, health checks
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .AddTransforms(static transforms =>              // proxy_set_header X-Real-IP $remote_addr
        transforms.AddRequestTransform(static context =>
        {
            if (context.HttpContext.Connection.RemoteIpAddress is { } client)
            {
                context.ProxyRequest.Headers.TryAddWithoutValidation("X-Real-IP", client.ToString());
            }

            return ValueTask.CompletedTask;
        }))
    .AddAiEdge();                                    // breakers per destination, problem answers, readiness

var app = builder.Build();

app.UseAiEdge();                                     // forwarded headers, security headers, /healthz, /readyz, ...
app.MapAiEdgeReverseProxy();                         // only the routes of "ReverseProxy:Routes" reach a backend

app.Run();

/// <summary>The gateway application (visible to its tests).</summary>
public partial class Program;
