using AiEdge.Middleware.Security.Internal;
using FsCheck;
using FsCheck.Fluent;

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
    [InlineData("https://-app.example.com", "Invalid", null)]
    [InlineData("https://app-.example.com", "Invalid", null)]
    [InlineData("https://app.example.com.", "Invalid", null)]
    [InlineData("https://*.-example.com", "Invalid", null)]
    [InlineData("http://[not-ip]", "Invalid", null)]
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

    [Fact]
    public void WildcardLabel_MatchesExactlyWhenItIsAWellFormedLdhLabel()
    {
        var matcher = new OriginMatcher(["https://*.example.com"]);
        Prop.ForAll(
            Arb.From(Gen.Elements("ab9-_.A".ToCharArray()).ArrayOf().Select(static chars => new string(chars))),
            label => matcher.IsAllowed("https://" + label + ".example.com") == WellFormedLabels(label))
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void LongLabels_AreRefusedPast63Characters_AndHostsPast253()
    {
        var matcher = new OriginMatcher(["https://*.example.com"]);
        Prop.ForAll(
            Arb.From(Gen.Choose(1, 80)),
            length => matcher.IsAllowed("https://" + new string('a', length) + ".example.com") == (length <= 63))
            .QuickCheckThrowOnFailure();
        var label = new string('a', 63);
        var host = label + "." + label + "." + label + "." + new string('a', 253 - (3 * 64) - ".example.com".Length) + ".example.com";
        Assert.Equal(253, host.Length);
        Assert.True(matcher.IsAllowed("https://" + host));
        Assert.False(matcher.IsAllowed("https://a" + host));
    }

    [Fact]
    public void Normalize_DefaultPortsAndCase_AreTheSameOrigin()
    {
        var hosts = Gen.Elements("app", "a-1", "x9", "tenant").ArrayOf().Where(static labels => labels.Length is > 0 and < 30)
            .Select(static labels => string.Join('.', labels) + ".example.com");
        Prop.ForAll(
            Arb.From(hosts),
            host =>
            {
                var http = OriginMatcher.TryNormalize("HTTP://" + host.ToUpperInvariant() + ":80", out var a) && a == "http://" + host;
                var https = OriginMatcher.TryNormalize("https://" + host + ":443", out var b) && b == "https://" + host;
                var kept = OriginMatcher.TryNormalize("https://" + host + ":80", out var c) && c == "https://" + host + ":80";
                var exact = new OriginMatcher(["https://" + host + ":443"]).IsAllowed("https://" + host);
                return http && https && kept && exact;
            })
            .QuickCheckThrowOnFailure();
    }

    private static bool WellFormedLabels(string labels)
    {
        if (labels.Length == 0 || labels.Length + ".example.com".Length > 253)
        {
            return false;
        }

        foreach (var label in labels.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
