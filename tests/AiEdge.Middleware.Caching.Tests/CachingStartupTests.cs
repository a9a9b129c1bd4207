using AiEdge.Middleware.Caching;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Caching.Tests;

public sealed class CachingStartupTests
{
    [Theory]
    [InlineData("AiEdge:Caching:Duration", "00:00:00", "AiEdge:Caching:Duration must be a positive time span")]
    [InlineData("AiEdge:Caching:SizeLimit", "0", "AiEdge:Caching:SizeLimit must be a positive number of bytes")]
    [InlineData("AiEdge:Caching:StaleIfError", "-00:00:01", "AiEdge:Caching:StaleIfError must not be negative")]
    [InlineData("AiEdge:Caching:VaryByHeaders:0", "Bad Header", "AiEdge:Caching:VaryByHeaders:0 must be a header name")]
    [InlineData("AiEdge:Caching:Policies:gpu:Duration", "-00:01:00", "AiEdge:Caching:Policies:gpu:Duration must be a positive time span")]
    [InlineData("AiEdge:Caching:DuplicateMembers", "7", "AiEdge:Caching:DuplicateMembers must be Reject or Bypass")]
    [InlineData("AiEdge:Caching:Policies:gpu:DuplicateMembers", "-1", "AiEdge:Caching:Policies:gpu:DuplicateMembers must be Reject or Bypass")]
    [InlineData("AiEdge:Idempotency:Retention", "00:00:00", "AiEdge:Idempotency:Retention must be a positive time span")]
    [InlineData("AiEdge:Idempotency:MaxKeyLength", "0", "AiEdge:Idempotency:MaxKeyLength must be from 1 to 8192")]
    [InlineData("AiEdge:Idempotency:SizeLimit", "0", "AiEdge:Idempotency:SizeLimit must be a positive number of bytes")]
    [InlineData("AiEdge:Idempotency:SizeLimit", "-1", "AiEdge:Idempotency:SizeLimit must be a positive number of bytes")]
    public async Task BadConfiguration_FailsAtStartupNamingTheKey(string key, string value, string message)
    {
        await StartupAssert.FailsAsync(
            () => CachingHost.StartAsync(app => app.MapPost("/p", () => "x").WithPredictionCache(), configuration: new Dictionary<string, string?> { [key] = value }),
            message);
    }

    [Fact]
    public async Task UnknownPolicy_FailsAtStartupNamingIt()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => CachingHost.StartAsync(
            app => app.MapPost("/p", () => "x").WithPredictionCache("nope")));

        Assert.Contains("'nope'", failure.Message);
        Assert.Contains("AiEdge:Caching:Policies:nope", failure.Message);
    }

    [Fact]
    public async Task Configuration_BindsPoliciesAndLists()
    {
        await using var app = await CachingHost.StartAsync(
            a => a.MapPost("/p", () => "x").WithPredictionCache("gpu"),
            configuration: new Dictionary<string, string?>
            {
                ["AiEdge:Caching:Anonymous"] = "Shared",
                ["AiEdge:Caching:ExcludedJsonFields:0"] = "user",
                ["AiEdge:Caching:DuplicateMembers"] = "Bypass",
                ["AiEdge:Caching:Policies:gpu:Duration"] = "00:10:00",
                ["AiEdge:Caching:Policies:gpu:DuplicateMembers"] = "Reject",
                ["AiEdge:Caching:Policies:gpu:IgnoreClientNoCache"] = "true",
                ["AiEdge:Idempotency:Retention"] = "02:00:00",
            });

        var cache = app.Services.GetRequiredService<IOptions<PredictionCacheOptions>>().Value;
        var idempotency = app.Services.GetRequiredService<IOptions<IdempotencyOptions>>().Value;
        Assert.Equal(AnonymousCaching.Shared, cache.Anonymous);
        Assert.Equal(["user"], cache.ExcludedJsonFields);
        Assert.Equal(DuplicateJsonMembers.Bypass, cache.DuplicateMembers);
        Assert.Equal(DuplicateJsonMembers.Reject, cache.Policies["gpu"].DuplicateMembers);
        Assert.Equal(TimeSpan.FromMinutes(10), cache.Policies["gpu"].Duration);
        Assert.True(cache.Policies["gpu"].IgnoreClientNoCache);
        Assert.Equal(TimeSpan.FromHours(2), idempotency.Retention);
    }
}
