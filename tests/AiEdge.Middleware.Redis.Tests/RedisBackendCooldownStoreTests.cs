using AiEdge.Middleware.Resilience;
using AiEdge.Middleware.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Redis.Tests;

/// <summary>The Redis <see cref="IBackendCooldownStore"/> that <c>AddRedis()</c> registers, on a real redis-server.</summary>
public sealed class RedisBackendCooldownStoreTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private RedisServerFixture _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServerFixture.StartAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task CoolDown_KeepsTheLaterEnd_InOneHashTaggedKeyThatExpires()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var first = await StartAsync(clock);
        await using var second = await StartAsync(clock);
        var writer = first.Services.GetRequiredService<IBackendCooldownStore>();
        var reader = second.Services.GetRequiredService<IBackendCooldownStore>();
        var now = clock.GetUtcNow();

        await writer.CoolDownAsync("vllm", "d0", now.AddSeconds(30)).AsTask().WaitAsync(Timeout);
        await writer.CoolDownAsync("vllm", "d0", now.AddSeconds(10)).AsTask().WaitAsync(Timeout);
        await reader.CoolDownAsync("vllm", "d1", now.AddSeconds(5)).AsTask().WaitAsync(Timeout);

        var cooldowns = await reader.GetCooldownsAsync("vllm").AsTask().WaitAsync(Timeout);
        Assert.Equal(2, cooldowns.Count);
        Assert.Equal(now.AddSeconds(30), cooldowns["d0"]);
        Assert.Equal(now.AddSeconds(5), cooldowns["d1"]);
        Assert.Empty(await reader.GetCooldownsAsync("qdrant").AsTask().WaitAsync(Timeout));
        var ttl = long.Parse((await _redis.CommandAsync("PTTL aiedge:cooldown:{vllm}")).Trim().TrimStart(':'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 60_000, 90_000);
    }

    [Fact]
    public async Task RedisDown_WritesAreDropped_AndReadsAnswerNothing_WithoutThrowing()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        await using var app = await StartAsync(clock);
        var store = app.Services.GetRequiredService<IBackendCooldownStore>();
        _redis.Kill();

        await store.CoolDownAsync("vllm", "d0", clock.GetUtcNow().AddSeconds(30)).AsTask().WaitAsync(Timeout);

        Assert.Empty(await store.GetCooldownsAsync("vllm").AsTask().WaitAsync(Timeout));
    }

    private Task<TestApp> StartAsync(FakeTimeProvider clock)
        => TestApp.StartEdgeAsync(
            static edge => edge.AddRedis(),
            static _ => { },
            new TestAppOptions
            {
                Time = clock,
                Configuration = new Dictionary<string, string?> { ["AiEdge:Redis:Configuration"] = _redis.Configuration },
            });
}
