using AiEdge.Middleware.Authentication;
using AiEdge.Middleware.Health;
using AiEdge.Middleware.Resilience;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Health.Tests;

/// <summary>Every duration of the health, resilience and authentication sections takes both <c>00:00:20</c> and <c>20s</c>.</summary>
public sealed class DurationSyntaxTests
{
    public static TheoryData<string, string, string, Func<IServiceProvider, TimeSpan>> Durations() => new()
    {
        { "AiEdge:Health:CacheDuration", "2s", "00:00:02", static s => Get<EdgeHealthOptions>(s).CacheDuration },
        { "AiEdge:Resilience:Breakers:gpu:SamplingDuration", "2m", "00:02:00", static s => Get<ResilienceOptions>(s).Breakers["gpu"].SamplingDuration },
        { "AiEdge:Resilience:Breakers:gpu:BreakDuration", "2m", "00:02:00", static s => Get<ResilienceOptions>(s).Breakers["gpu"].BreakDuration },
        { "AiEdge:Resilience:Breakers:gpu:AttemptTimeout", "20s", "00:00:20", static s => Get<ResilienceOptions>(s).Breakers["gpu"].AttemptTimeout },
        { "AiEdge:Resilience:Breakers:gpu:TotalTimeout", "2m", "00:02:00", static s => Get<ResilienceOptions>(s).Breakers["gpu"].TotalTimeout },
        { "AiEdge:Resilience:Breakers:gpu:RetryDelay", "250ms", "00:00:00.250", static s => Get<ResilienceOptions>(s).Breakers["gpu"].RetryDelay },
        { "AiEdge:Resilience:Backends:pool:ProbeInterval", "10s", "00:00:10", static s => Get<ResilienceOptions>(s).Backends["pool"].ProbeInterval },
        { "AiEdge:Resilience:Backends:pool:ProbeTimeout", "1s", "00:00:01", static s => Get<ResilienceOptions>(s).Backends["pool"].ProbeTimeout },
        { "AiEdge:Authentication:Jwt:AutomaticRefreshInterval", "1h", "01:00:00", static s => Get<EdgeAuthenticationOptions>(s).Jwt.AutomaticRefreshInterval },
        { "AiEdge:Authentication:Jwt:RefreshInterval", "30s", "00:00:30", static s => Get<EdgeAuthenticationOptions>(s).Jwt.RefreshInterval },
        { "AiEdge:Authentication:Jwt:ClockSkew", "2m", "00:02:00", static s => Get<EdgeAuthenticationOptions>(s).Jwt.ClockSkew },
    };

    [Theory]
    [MemberData(nameof(Durations))]
    public async Task Duration_TakesBothSyntaxes(string key, string shortForm, string timeSpanForm, Func<IServiceProvider, TimeSpan> read)
    {
        TimeSpan? first = null;
        foreach (var value in new[] { shortForm, timeSpanForm })
        {
            await using var app = await TestApp.StartEdgeAsync(
                static edge => edge.AddHealth().AddResilience().AddEdgeAuthentication(),
                static app => app.MapGet("/", static () => "ok"),
                new TestAppOptions
                {
                    Configuration = new Dictionary<string, string?>
                    {
                        [key] = value,
                        ["AiEdge:Resilience:Backends:pool:Replicas:0:Url"] = "http://127.0.0.1:9",
                    },
                });

            var bound = read(app.Services);
            first ??= bound;
            Assert.Equal(first, bound);
            Assert.NotEqual(TimeSpan.Zero, bound);
        }

        Assert.Equal(TimeSpan.Parse(timeSpanForm, System.Globalization.CultureInfo.InvariantCulture), first);
    }

    private static T Get<T>(IServiceProvider services)
        where T : class => services.GetRequiredService<IOptions<T>>().Value;
}
