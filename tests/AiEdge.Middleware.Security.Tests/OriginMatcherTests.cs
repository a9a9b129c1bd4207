using AiEdge.Middleware.Security.Internal;

namespace AiEdge.Middleware.Security.Tests;

public sealed class OriginMatcherTests
{
    [Theory]
    [InlineData("https://app.example.com", "Exact", "https://app.example.com")]
    [InlineData("HTTPS://APP.Example.COM:443", "Exact", "https://app.example.com")]
    [InlineData("http://localhost:80", "Exact", "http://localhost")]
    [InlineData("http://localhost:5173", "Exact", "http://localhost:5173")]
    [InlineData("http://127.0.0.1:8080", "Exact", "http://127.0.0.1:8080")]
    [InlineData("http://[::1]:8080", "Exact", "http://[::1]:8080")]
    [InlineData("https://*.example.com", "Pattern", null)]
    [InlineData("*", "Any", null)]
    [InlineData("https://*", "AnyOfScheme", null)]
    [InlineData("*://app.example.com", "AnyOfScheme", null)]
    [InlineData("https://*.com", "AnyOfScheme", null)]
    [InlineData("null", "Null", null)]
    [InlineData("https://app.example.com/", "Invalid", null)]
    [InlineData("https://user@app.example.com", "Invalid", null)]
    [InlineData("https://app.example.com:0x50", "Invalid", null)]
    [InlineData("https://*.*.example.com", "Invalid", null)]
    [InlineData("https://a*.example.com", "Invalid", null)]
    [InlineData("https://app..example.com", "Invalid", null)]
    [InlineData("app.example.com", "Invalid", null)]
    public void Classify_ConfiguredOrigins(string value, string kind, string? canonical)
    {
        Assert.Equal(kind, OriginMatcher.Classify(value, out var actual, out _).ToString());
        Assert.Equal(canonical, actual);
    }

    [Fact]
    public void PortInPattern_MustMatchExactly()
    {
        var matcher = new OriginMatcher(["https://*.example.com:8443"]);

        Assert.True(matcher.IsAllowed("https://a.example.com:8443"));
        Assert.False(matcher.IsAllowed("https://a.example.com"));
        Assert.False(matcher.IsAllowed("https://a.example.com:18443"));
        Assert.False(matcher.IsAllowed("https://a.example.com:8443.evil.net"));
    }
}
