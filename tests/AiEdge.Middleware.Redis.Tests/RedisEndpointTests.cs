using AiEdge.Middleware.Redis.Internal;

namespace AiEdge.Middleware.Redis.Tests;

public sealed class RedisEndpointTests
{
    [Theory]
    [InlineData("localhost", "localhost", 6379, null, null, false, 0)]
    [InlineData("127.0.0.1:6380", "127.0.0.1", 6380, null, null, false, 0)]
    [InlineData("redis.internal:6379,password=p@ss=word", "redis.internal", 6379, null, "p@ss=word", false, 0)]
    [InlineData("r:1,user=edge,password=pw,ssl=true,db=2", "r", 1, "edge", "pw", true, 2)]
    [InlineData("[::1]:7000,SSL=False", "::1", 7000, null, null, false, 0)]
    public void TryParse_ValidConfiguration_ReadsEveryPart(string text, string host, int port, string? user, string? password, bool ssl, int db)
    {
        Assert.True(RedisEndpoint.TryParse(text, out var endpoint, out var error), error);
        Assert.Equal(new RedisEndpoint(host, port, user, password, ssl, db), endpoint);
    }

    [Theory]
    [InlineData("host:0", "host:port")]
    [InlineData("host:99999", "host:port")]
    [InlineData("host:abc", "host:port")]
    [InlineData("a:b:c", "host:port")]
    [InlineData("host,ssl=yes", "ssl=yes")]
    [InlineData("host,db=-1", "db=-1")]
    [InlineData("host,timeout=5", "unknown option 'timeout'")]
    [InlineData("host,user=edge", "user= without password=")]
    [InlineData("host,password", "without a value")]
    public void TryParse_InvalidConfiguration_SaysWhy(string text, string reason)
    {
        Assert.False(RedisEndpoint.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void ToString_NeverShowsThePassword()
    {
        Assert.True(RedisEndpoint.TryParse("h:1,user=u,password=topsecret", out var endpoint, out _));
        Assert.DoesNotContain("topsecret", endpoint!.ToString());
    }

    [Fact]
    public void Validate_BadConfiguration_NamesTheKeyWithoutThePassword()
    {
        var result = new RedisOptionsValidator().Validate(null, new RedisOptions { Configuration = "h:1,password=topsecret,bogus=1" });

        Assert.True(result.Failed);
        Assert.Contains("AiEdge:Redis:Configuration has an unknown option 'bogus'", result.FailureMessage);
        Assert.DoesNotContain("topsecret", result.FailureMessage);
    }

    [Theory]
    [InlineData("ConnectTimeout")]
    [InlineData("CommandTimeout")]
    public void Validate_NonPositiveTimeout_NamesTheKey(string key)
    {
        var options = new RedisOptions();
        typeof(RedisOptions).GetProperty(key)!.SetValue(options, TimeSpan.Zero);

        var result = new RedisOptionsValidator().Validate(null, options);

        Assert.Contains("AiEdge:Redis:" + key, result.FailureMessage);
    }
}
