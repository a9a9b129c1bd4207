using AiEdge.Middleware;
using AiEdge.Samples.ModelApi;

namespace AiEdge.Middleware.LoadBench;

/// <summary>
/// AiEdge doing the built-ins' jobs and nothing else, on the same handlers: forwarded headers from the trusted
/// loopback proxy, the same four security header fields, CORS for one origin, and a rate-limit tier per client IP
/// with limits high enough never to reject (NGINX's decision and the <c>RateLimit</c> fields included, as always),
/// beside <see cref="BuiltIns"/>. The sample (target <c>aiedge-limit</c>) adds what the built-ins do not do at all:
/// authentication, body limits, Idempotency-Key, concurrency tiers, streaming control and problem details for errors.
/// </summary>
internal static class SameJobs
{
    public static int Run(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiEdge:Cors:AllowedOrigins:0"] = "http://localhost:5173",
            ["AiEdge:RateLimiting:Tiers:train:Rate"] = "1000000r/s",
            ["AiEdge:RateLimiting:Tiers:train:Burst"] = "1000000",
            ["AiEdge:SecurityHeaders:ReferrerPolicy"] = "strict-origin-when-cross-origin",
            ["AiEdge:SecurityHeaders:CrossOriginOpenerPolicy"] = "",
            ["AiEdge:SecurityHeaders:CrossOriginResourcePolicy"] = "",
            ["AiEdge:SecurityHeaders:PermissionsPolicy"] = "",
        });
        builder.Services.AddAiEdge(static edge => edge.AddCors().AddRateLimiting());

        var app = builder.Build();
        app.UseAiEdge();
        app.MapPost("/v1/train", ModelEndpoints.TrainAsync).WithRateLimitTier("train");
        app.Run();
        return 0;
    }
}
