using System.Net;
using System.Net.Http.Json;
using AiEdge.Middleware.Docs.Tests.Snippets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Docs.Tests;

/// <summary>The README's quick start serves, limits and caches as the README says.</summary>
public sealed class QuickStartTests
{
    [Fact]
    public async Task QuickStart_LimitsCachesAndSendsSecurityHeaders()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiEdge:RateLimiting:Tiers:predict:Rate"] = "1r/m",
            ["AiEdge:RateLimiting:Tiers:predict:Burst"] = "2",
            ["AiEdge:Caching:Anonymous"] = "Shared",
        });
        await using var app = QuickStart.Build(builder);
        await app.StartAsync();
        using var client = app.GetTestClient();

        using var first = await client.PostAsJsonAsync("/v1/predict", new { input = "abcd" });
        using var second = await client.PostAsJsonAsync("/v1/predict", new { input = "abcd" });
        using var third = await client.PostAsJsonAsync("/v1/predict", new { input = "abcd" });
        using var fourth = await client.PostAsJsonAsync("/v1/predict", new { input = "abcd" });

        Assert.Equal("MISS", first.Headers.GetValues("X-Cache").Single());
        Assert.Equal("HIT", second.Headers.GetValues("X-Cache").Single());
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal((HttpStatusCode)429, fourth.StatusCode);
        Assert.True(first.Headers.Contains("RateLimit"));
        Assert.Equal("nosniff", first.Headers.GetValues("X-Content-Type-Options").Single());
    }
}
