using System.Net;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>Every GET route of the sample answers HEAD through a real Kestrel: same status and headers, no body.</summary>
public sealed class HeadAcceptanceTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    // Headers that legitimately differ between two answers, or between a body and its absence.
    private static readonly HashSet<string> Varying = new(StringComparer.OrdinalIgnoreCase)
    {
        "Date", "Transfer-Encoding", "Content-Length", "X-Request-Id", "traceparent", "X-Correlation-Id",
    };

    [Theory]
    [InlineData("/")]
    [InlineData("/index.html")]
    [InlineData("/chat.js")]
    [InlineData("/v1/client")]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task Head_OnEveryGetRoute_SameStatusAndHeadersAsGet_NoBody(string path)
    {
        await using var factory = new ModelApiFactory();
        using var client = new HttpClient { BaseAddress = factory.StartKestrel() };

        using var get = await client.GetAsync(path).WaitAsync(Wait);
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path)).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync().WaitAsync(Wait));
        Assert.Equal(Headers(get), Headers(head));
        if (get.Content.Headers.ContentLength is { } length)
        {
            Assert.Equal(length, head.Content.Headers.ContentLength);
        }
    }

    [Fact]
    public async Task Head_OnAPostOnlyRoute_Is405WithAllow()
    {
        await using var factory = new ModelApiFactory();
        using var client = new HttpClient { BaseAddress = factory.StartKestrel() };

        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v1/predict")).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync().WaitAsync(Wait));
    }

    private static SortedDictionary<string, string> Headers(HttpResponseMessage response)
    {
        var headers = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (!Varying.Contains(header.Key))
            {
                headers[header.Key] = string.Join(",", header.Value);
            }
        }

        return headers;
    }
}
