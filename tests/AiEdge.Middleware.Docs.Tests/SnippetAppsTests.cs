using AiEdge.Middleware.Docs.Tests.Snippets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;

namespace AiEdge.Middleware.Docs.Tests;

/// <summary>
/// The Program.cs-shaped snippets of the concern pages do not only compile: the app they describe builds and starts
/// (options validation runs at start), so a doc cannot show a configuration the packages reject.
/// </summary>
public sealed class SnippetAppsTests
{
    public static TheoryData<string> Apps() =>
    [
        "authentication", "body-limits", "caching", "forwarded-headers", "getting-started", "health", "idempotency",
        "rate-limiting", "resilience", "security", "streaming",
    ];

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task TheDocumentedApp_Starts(string page)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(Settings(page));
        await using var app = page switch
        {
            "authentication" => AuthenticationSnippets.Endpoints(builder),
            "body-limits" => BodyLimitsSnippets.Build(builder),
            "caching" => CachingSnippets.Build(builder),
            "forwarded-headers" => ForwardedHeadersSnippets.Build(builder),
            "getting-started" => GettingStartedSnippets.Build(builder),
            "health" => HealthSnippets.Build(builder),
            "idempotency" => IdempotencySnippets.Build(builder),
            "rate-limiting" => RateLimitingSnippets.Build(builder),
            "resilience" => ResilienceSnippets.Backend(builder),
            "security" => SecuritySnippets.Build(builder),
            "streaming" => StreamingSnippets.Build(builder),
            _ => throw new ArgumentOutOfRangeException(nameof(page)),
        };

        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        using var client = app.GetTestClient();
        var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(health.IsSuccessStatusCode, $"{page}: GET /healthz answered {(int)health.StatusCode}.");
        await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static Dictionary<string, string?> Settings(string page) => page switch
    {
        "rate-limiting" => new()
        {
            ["AiEdge:RateLimiting:Tiers:predict:Rate"] = "10r/s",
            ["AiEdge:RateLimiting:Tiers:perSecond:Rate"] = "5r/s",
            ["AiEdge:RateLimiting:Tiers:perDay:Rate"] = "100r/m",
        },
        "caching" => new()
        {
            ["AiEdge:Caching:Policies:embeddings:Duration"] = "01:00:00",
        },
        "resilience" => new()
        {
            ["AiEdge:Resilience:Backends:vllm:Replicas:0:Url"] = "http://127.0.0.1:9/v1/",
        },
        _ => [],
    };
}
