using AiEdge.Middleware.Resilience.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Resilience.Tests;

public sealed class ResilienceOptionsValidatorTests
{
    [Theory]
    [InlineData("AiEdge:Resilience:Breakers:b:FailureRatio", "0", "AiEdge:Resilience:Breakers:b:FailureRatio")]
    [InlineData("AiEdge:Resilience:Breakers:b:FailureRatio", "1.5", "AiEdge:Resilience:Breakers:b:FailureRatio")]
    [InlineData("AiEdge:Resilience:Breakers:b:MinimumThroughput", "1", "AiEdge:Resilience:Breakers:b:MinimumThroughput")]
    [InlineData("AiEdge:Resilience:Breakers:b:BreakDuration", "00:00:00.1", "AiEdge:Resilience:Breakers:b:BreakDuration")]
    [InlineData("AiEdge:Resilience:Breakers:b:AttemptTimeout", "00:00:00", "AiEdge:Resilience:Breakers:b:AttemptTimeout")]
    [InlineData("AiEdge:Resilience:Breakers:b:MaxRetryAttempts", "11", "AiEdge:Resilience:Breakers:b:MaxRetryAttempts")]
    [InlineData("AiEdge:Resilience:Backends:m:Replicas:0:Url", "not a url", "AiEdge:Resilience:Backends:m:Replicas:0:Url")]
    [InlineData("AiEdge:Resilience:Backends:m:Replicas:0:Url", "ftp://x/", "AiEdge:Resilience:Backends:m:Replicas:0:Url")]
    [InlineData("AiEdge:Resilience:Backends:m:Replicas:0:Weight", "0", "AiEdge:Resilience:Backends:m:Replicas:0:Weight")]
    [InlineData("AiEdge:Resilience:Backends:m:Breaker", "nope", "AiEdge:Resilience:Backends:m:Breaker")]
    [InlineData("AiEdge:Resilience:Backends:m:HealthPath", "health", "AiEdge:Resilience:Backends:m:HealthPath")]
    [InlineData("AiEdge:Resilience:Backends:m:UnhealthyThreshold", "0", "AiEdge:Resilience:Backends:m:UnhealthyThreshold")]
    public async Task BadSetting_FailsStartup_NamingTheKey(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:Resilience:Breakers:b:FailureRatio"] = "0.5",
            ["AiEdge:Resilience:Backends:m:Replicas:0:Url"] = "http://127.0.0.1:9/v1",
            [key] = value,
        };

        await StartupAssert.FailsAsync(() => StartAsync(settings), named);
    }

    [Fact]
    public async Task BackendWithoutReplicas_FailsStartup()
    {
        var settings = new Dictionary<string, string?> { ["AiEdge:Resilience:Backends:empty:Selection"] = "PowerOfTwoChoices" };

        await StartupAssert.FailsAsync(() => StartAsync(settings), "AiEdge:Resilience:Backends:empty:Replicas must list at least one replica");
    }

    [Fact]
    public async Task ClientOfUnconfiguredBackend_FailsWhenCreated_NamingTheKey()
    {
        await using var app = await StartAsync(new Dictionary<string, string?>(), client: "ghost");

        var failure = Assert.Throws<InvalidOperationException>(() => app.Services.GetRequiredService<ModelBackendClient>());

        Assert.Contains("Backend 'ghost' is not configured under AiEdge:Resilience:Backends", failure.Message);
    }

    [Fact]
    public async Task ValidSettings_Start()
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:Resilience:Backends:m:Replicas:0:Url"] = "http://127.0.0.1:9/v1",
            ["AiEdge:Resilience:Backends:m:Replicas:1:Url"] = "https://gpu-b:8000/",
            ["AiEdge:Resilience:Backends:m:Replicas:1:Weight"] = "4",
        };

        await using var app = await StartAsync(settings, client: "m");

        var pool = app.Services.GetRequiredService<BreakerRegistry>().GetPool("m");
        Assert.Equal(2, pool.Replicas.Length);
        Assert.Equal(4, pool.Replicas[1].Weight);
    }

    private static Task<TestApp> StartAsync(Dictionary<string, string?> settings, string? client = null)
        => TestApp.StartEdgeAsync(
            edge =>
            {
                edge.AddResilience();
                if (client is not null)
                {
                    edge.AddModelBackendClient(client);
                }
            },
            static _ => { },
            new TestAppOptions { Configuration = settings });
}
