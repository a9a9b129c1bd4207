using System.Net;
using System.Text.Json;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>
/// The sample's forwarded-header contract from outside: <c>GET /v1/client</c> shows the caller as normalized.
/// Served on Kestrel over loopback, so the peer is a real 127.0.0.1 connection (the sample's default trusted proxy).
/// </summary>
public sealed class ForwardedHeadersAcceptanceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static async Task<JsonElement> GetClientAsync(Uri baseAddress, params (string Name, string Value)[] headers)
    {
        using var http = new HttpClient { BaseAddress = baseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/client");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(Timeout));
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task LoopbackProxy_IsTrustedByDefault()
    {
        await using var factory = new ModelApiFactory();
        var baseAddress = factory.StartKestrel();

        var client = await GetClientAsync(
            baseAddress,
            ("X-Forwarded-For", "198.51.100.1, 203.0.113.7"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "api.example.com"));

        // 203.0.113.7 is the first untrusted hop from the right; 198.51.100.1 is whatever the client claimed.
        Assert.Equal("203.0.113.7", client.GetProperty("ip").GetString());
        Assert.Equal("https", client.GetProperty("scheme").GetString());
        Assert.Equal("api.example.com", client.GetProperty("host").GetString());
    }

    [Fact]
    public async Task Rfc7239Forwarded_IsHonoured()
    {
        await using var factory = new ModelApiFactory();
        var baseAddress = factory.StartKestrel();

        var client = await GetClientAsync(baseAddress, ("Forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https"));

        Assert.Equal("2001:db8:cafe::17", client.GetProperty("ip").GetString());
        Assert.Equal("https", client.GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task UntrustedPeer_HeadersIgnored()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["AiEdge:ForwardedHeaders:TrustedProxies:0"] = "10.0.0.0/8",
            ["AiEdge:ForwardedHeaders:TrustedProxies:1"] = "fd00::/8",
        });
        var baseAddress = factory.StartKestrel();

        var client = await GetClientAsync(baseAddress, ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https"));

        Assert.Equal("127.0.0.1", client.GetProperty("ip").GetString());
        Assert.Equal("http", client.GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task Garbage_NeverFails()
    {
        await using var factory = new ModelApiFactory();
        var baseAddress = factory.StartKestrel();

        var client = await GetClientAsync(baseAddress, ("X-Forwarded-For", "1.2.3.4:99999, ]]]["), ("Forwarded", "for=\"oops"));

        Assert.Equal("127.0.0.1", client.GetProperty("ip").GetString());
    }

    [Fact]
    public void TrustingEveryAddress_FailsAtStartup_NamingTheKey()
    {
        using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["AiEdge:ForwardedHeaders:TrustedProxies:0"] = "0.0.0.0/0" });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("AiEdge:ForwardedHeaders:TrustedProxies trusts every address", error.ToString(), StringComparison.Ordinal);
    }
}
