using System.Net;
using System.Threading.RateLimiting;
using AiEdge.Samples.ModelApi;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;

namespace AiEdge.Middleware.LoadBench;

/// <summary>
/// The sample's predict and train endpoints behind ASP.NET Core's own parts doing the edge's jobs: forwarded headers
/// from a trusted proxy (<c>UseForwardedHeaders</c>), four security headers from a small middleware, CORS for one
/// origin (<c>UseCors</c>), and a token bucket per client IP (<c>UseRateLimiter</c>) with limits high enough never to
/// reject. What a user would write without AiEdge; same host, same handlers.
/// </summary>
internal static class BuiltIns
{
    private const string Policy = "per-ip";

    public static int Run(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Add(IPAddress.Loopback);
            options.KnownProxies.Add(IPAddress.IPv6Loopback);
        });
        builder.Services.AddCors(options => options.AddDefaultPolicy(policy => policy.WithOrigins("http://localhost:5173").AllowAnyHeader().AllowAnyMethod()));
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(Policy, static context => RateLimitPartition.GetTokenBucketLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                static _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = 1_000_000,
                    TokensPerPeriod = 1_000_000,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
        });

        var app = builder.Build();
        app.UseForwardedHeaders();
        app.Use(static (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
            headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
            return next(context);
        });
        app.UseRouting();
        app.UseCors();
        app.UseRateLimiter();

        app.MapPost("/v1/predict", ModelEndpoints.PredictAsync).RequireRateLimiting(Policy);
        app.MapPost("/v1/train", ModelEndpoints.TrainAsync).RequireRateLimiting(Policy);
        app.MapGet("/healthz", () => Results.Ok());
        app.Run();
        return 0;
    }
}
