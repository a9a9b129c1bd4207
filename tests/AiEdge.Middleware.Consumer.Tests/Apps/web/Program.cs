// `dotnet new web`, then the app's own parts (JwtBearer against its identity provider, the built-in rate limiter,
// output cache, health checks, OpenTelemetry, OpenAPI, and its own Redis distributed cache when `App:Redis` is set)
// and AiEdge, as a user adds them.
using System.Diagnostics;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Trace;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddAuthentication().AddJwtBearer(options =>
{
    options.Authority = builder.Configuration["Idp:Authority"];
    options.RequireHttpsMetadata = false;
    options.Audience = "consumer-api";
});
builder.Services.AddAuthorization();
builder.Services.AddRateLimiter(options =>
{
    options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
    options.AddFixedWindowLimiter("app", window =>
    {
        window.PermitLimit = 2;
        window.Window = TimeSpan.FromHours(1);
    });
});
builder.Services.AddOutputCache();
var database = new Database();
builder.Services.AddHealthChecks().AddCheck("database", database);
var spans = new List<Activity>();
builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing
    .AddAspNetCoreInstrumentation()
    .AddAiEdgeInstrumentation()
    .AddInMemoryExporter(spans));
builder.Services.AddOpenApi();
if (builder.Configuration["App:Redis"] is { } appRedis)
{
    builder.Services.AddStackExchangeRedisCache(options =>
    {
        options.Configuration = appRedis;
        options.InstanceName = "consumer:";
    });
}

builder.Services.AddAiEdge(edge => edge
    .AddEdgeAuthentication()
    .AddRateLimiting()
    .AddPredictionCache()
    .AddRedis());

var app = builder.Build();

app.UseAiEdge();
app.UseRateLimiter();
app.UseOutputCache();

app.MapGet("/", () => "Hello World!");

app.MapOpenApi();
app.MapPost("/v1/predict", (PredictRequest request) => new { label = request.Input.Length % 2 == 0 ? "even" : "odd" })
    .WithRateLimitTier("predict")
    .WithPredictionCache();
app.MapGet("/v1/app-limited", () => "ok").WithRateLimitTier("wide").RequireRateLimiting("app");
app.MapGet("/v1/me", (HttpContext context) => new { name = context.User.Identity?.Name, id = context.GetCallerId() }).RequireAuthorization();
app.MapGet("/v1/scoped", () => "ok").RequireScopes("predict");
app.MapPost("/v1/upload", () => "ok").WithBodyLimit("1k");
var renders = 0;
app.MapGet("/v1/app-cached", () => Interlocked.Increment(ref renders)).CacheOutput();
app.MapPost("/test/app-cache/{key}", async (string key, HttpContext context) =>
{
    var cache = context.RequestServices.GetService<IDistributedCache>();
    if (cache is null)
    {
        return "none";
    }

    await cache.SetStringAsync(key, "the app's value");
    return cache.GetType().FullName + " " + await cache.GetStringAsync(key);
});
app.MapPost("/test/database/{healthy:bool}", (bool healthy) => database.Healthy = healthy);
app.MapGet("/test/spans", () =>
{
    lock (spans)
    {
        return spans.Select(span => new { name = span.DisplayName, route = span.GetTagItem("http.route") as string, status = span.GetTagItem("http.response.status_code")?.ToString() }).ToList();
    }
});

app.Run();

internal sealed record PredictRequest(string Input);

internal sealed class Database : IHealthCheck
{
    public volatile bool Healthy = true;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(Healthy ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("database down"));
}
