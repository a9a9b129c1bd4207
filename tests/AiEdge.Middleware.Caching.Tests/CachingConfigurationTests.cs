using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>Misspelt keys and bad values of the caching sections are named at startup; every duration takes both syntaxes.</summary>
public sealed class CachingConfigurationTests
{
    [Theory]
    [InlineData("AiEdge:Caching:Anonymus", "Shared", "AiEdge:Caching:Anonymus is not a known setting; the nearest valid key is AiEdge:Caching:Anonymous.")]
    [InlineData("AiEdge:Caching:Anonymous", "Everyone", "AiEdge:Caching:Anonymous has the value \"Everyone\", which is not one of Bypass, Shared, PerClientAddress.")]
    [InlineData("AiEdge:Caching:Policies:gpu:Durration", "00:10:00", "AiEdge:Caching:Policies:gpu:Durration is not a known setting; the nearest valid key is AiEdge:Caching:Policies:gpu:Duration.")]
    [InlineData("AiEdge:Caching:Duration", "ten minutes", "AiEdge:Caching:Duration has the value \"ten minutes\", which is not a duration such as 00:05:00, 5m, 30s, 250ms or 1h.")]
    [InlineData("AiEdge:Idempotency:Retention", "1y", "AiEdge:Idempotency:Retention has the value \"1y\", which is not a duration such as 00:05:00, 5m, 30s, 250ms or 1h.")]
    public async Task Mistake_FailsAtStartupNamingTheKey(string key, string value, string message)
    {
        await StartupAssert.FailsAsync(
            () => CachingHost.StartAsync(app => app.MapPost("/p", () => "x").WithPredictionCache(), configuration: new Dictionary<string, string?> { [key] = value }),
            message);
    }

    public static TheoryData<string, string, Func<IServiceProvider, TimeSpan>> Durations()
    {
        var data = new TheoryData<string, string, Func<IServiceProvider, TimeSpan>>();
        foreach (var (shortForm, longForm) in new[] { ("90s", "00:01:30"), ("2h", "02:00:00"), ("1500ms", "00:00:01.500") })
        {
            foreach (var value in new[] { shortForm, longForm })
            {
                data.Add("AiEdge:Caching:Duration", value, static s => Cache(s).Duration);
                data.Add("AiEdge:Caching:StaleIfError", value, static s => Cache(s).StaleIfError);
                data.Add("AiEdge:Caching:CoalescingTimeout", value, static s => Cache(s).CoalescingTimeout);
                data.Add("AiEdge:Caching:Policies:gpu:Duration", value, static s => Cache(s).Policies["gpu"].Duration!.Value);
                data.Add("AiEdge:Caching:Policies:gpu:StaleIfError", value, static s => Cache(s).Policies["gpu"].StaleIfError!.Value);
                data.Add("AiEdge:Idempotency:Retention", value, static s => s.GetRequiredService<IOptions<IdempotencyOptions>>().Value.Retention);
                data.Add("AiEdge:Idempotency:ProcessingTimeout", value, static s => s.GetRequiredService<IOptions<IdempotencyOptions>>().Value.ProcessingTimeout);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Durations))]
    public async Task Duration_TakesBothSyntaxes(string key, string value, Func<IServiceProvider, TimeSpan> read)
    {
        await using var app = await CachingHost.StartAsync(
            a => a.MapPost("/p", () => "x").WithPredictionCache("gpu"),
            configuration: new Dictionary<string, string?> { [key] = value, ["AiEdge:Caching:Policies:gpu:Anonymous"] = "Shared" });

        var expected = value switch
        {
            "90s" or "00:01:30" => TimeSpan.FromSeconds(90),
            "2h" or "02:00:00" => TimeSpan.FromHours(2),
            _ => TimeSpan.FromMilliseconds(1500),
        };
        Assert.Equal(expected, read(app.Services));
    }

    private static PredictionCacheOptions Cache(IServiceProvider services) => services.GetRequiredService<IOptions<PredictionCacheOptions>>().Value;
}
