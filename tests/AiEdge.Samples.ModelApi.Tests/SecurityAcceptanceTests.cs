using System.Net;
using System.Text;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>Security headers, CORS and body limits of the sample, driven from outside through the contract.</summary>
public sealed class SecurityAcceptanceTests
{
    [Fact]
    public async Task EveryKindOfResponse_CarriesTheSecurityHeaders()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var ok = await client.PostAsync("/v1/predict", Json("{\"model\":\"m\",\"input\":\"great\"}"));
        using var bad = await client.PostAsync("/v1/predict", Json("{not json"));
        using var missing = await client.GetAsync("/nowhere");
        using var tooLarge = await client.PostAsync("/v1/predict", new ByteArrayContent(new byte[(1024 * 1024) + 1]));
        using var health = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await ProblemAssert.IsProblemAsync(bad, HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(missing, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        foreach (var response in new[] { ok, bad, missing, tooLarge, health })
        {
            SecurityHeadersAssert.HasApiPreset(response);
        }
    }

    [Fact]
    public async Task OnKestrel_NoServerHeader_AndHstsOnlyWhenATrustedProxySaysHttps()
    {
        await using var factory = new ModelApiFactory();
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = baseAddress };

        using var plain = await client.GetAsync("/healthz").WaitAsync(TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var forwarded = await client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));

        SecurityHeadersAssert.HasApiPreset(plain, https: false);
        SecurityHeadersAssert.HasApiPreset(forwarded, https: true);
    }

    [Fact]
    public async Task Preflight_FromTheConfiguredOrigin_Is204WithCorsHeaders_LookAlikesGetNone()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var allowed = await client.SendAsync(Preflight("http://localhost:5173"));
        using var lookAlike = await client.SendAsync(Preflight("http://localhost:5173.evil.net"));
        using var otherPort = await client.SendAsync(Preflight("http://localhost:5174"));

        Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
        Assert.Equal("http://localhost:5173", SecurityHeadersAssert.Single(allowed, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", SecurityHeadersAssert.Single(allowed, "Access-Control-Allow-Methods"));
        Assert.Contains("Origin", allowed.Headers.Vary);
        SecurityHeadersAssert.HasApiPreset(allowed);
        foreach (var refused in new[] { lookAlike, otherPort })
        {
            Assert.Equal(HttpStatusCode.NoContent, refused.StatusCode);
            Assert.Null(SecurityHeadersAssert.Single(refused, "Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task AllowedOrigins_ComeFromTheContractKey()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["AiEdge:Cors:AllowedOrigins:0"] = "https://app.example.com" });
        using var client = factory.CreateClient();

        using var configured = await client.SendAsync(Preflight("https://app.example.com"));

        Assert.Equal("https://app.example.com", SecurityHeadersAssert.Single(configured, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Train_AcceptsBodiesAbovePredictsLimit()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();
        var large = "{\"data\":\"" + new string('x', 2 * 1024 * 1024) + "\"}";

        using var predict = await client.PostAsync("/v1/predict", Json(large));
        using var train = await client.PostAsync("/v1/train", Json(large));

        await ProblemAssert.IsProblemAsync(predict, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
    }

    public static TheoryData<string, string> BodyRoutes => new()
    {
        { "/v1/predict", string.Empty },                                 // prediction cache (key from the body), JSON endpoint
        { "/v1/predict", "Idempotency-Key: \"predict-framing\"\r\n" },   // idempotency fingerprint too
        { "/v1/train", "Idempotency-Key: \"train-framing\"\r\n" },       // idempotency fingerprint, 100m limit
        { "/v1/chat/completions", string.Empty },                        // token-budget estimate, then the endpoint's parser
    };

    [Theory]
    [MemberData(nameof(BodyRoutes))]
    public async Task MalformedChunkedFraming_OnEveryBodyRoute_IsA400Problem_WithoutErrorLog(string route, string headers)
    {
        string[] framings =
        [
            "999999999\r\n{}\r\n0\r\n\r\n",                // 9 decimal digits: overflows Kestrel's chunk size
            "10000000000000000\r\n{}\r\n0\r\n\r\n",        // 17 hex digits
            "FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n",     // 20 hex digits
            "-2\r\n{}\r\n0\r\n\r\n",
            "zz\r\n{}\r\n0\r\n\r\n",
            "2;ext=1\n{}\r\n0\r\n\r\n",                     // bare LF ending a chunk extension
            "2\r\n{}XX0\r\n\r\n",                            // no CRLF after the data
            "1\r\n{}\r\n0\r\n\r\n",                        // more data than the size
        ];
        var logs = new LogCapture();
        await using var factory = new ModelApiFactory(UnlimitedRates, logs);
        var baseAddress = factory.StartKestrel();

        var failures = new List<string>();
        foreach (var framing in framings)
        {
            await using var connection = await RawHttpConnection.OpenAsync(baseAddress);
            await connection.SendAsync("POST " + route + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + headers + "Transfer-Encoding: chunked\r\n\r\n" + framing);
            var response = await connection.ReadResponseAsync();
            if (response.StatusCode != 400 || response.MediaType != "application/problem+json" || !response.Headers.ContainsKey("X-Content-Type-Options"))
            {
                failures.Add(framing.ReplaceLineEndings("\\n") + " -> " + response.StatusCode + " " + response.MediaType + " " + response.Body);
            }
        }

        await factory.DisposeAsync();   // stops the host: every request has finished logging
        Assert.Empty(failures);
        Assert.Empty(logs.Errors());
    }

    [Theory]
    [InlineData("/v1/predict", 1024 * 1024, true)]
    [InlineData("/v1/predict", 1024 * 1024, false)]
    [InlineData("/v1/train", 100 * 1024 * 1024, true)]
    [InlineData("/v1/train", 100 * 1024 * 1024, false)]
    [InlineData("/v1/chat/completions", 10 * 1024 * 1024, true)]
    [InlineData("/v1/chat/completions", 10 * 1024 * 1024, false)]
    public async Task ContentLengthOverTheLimit_Is413ProblemWhileOnlyHeadersWereSent_Without100Continue(string route, long limit, bool expectContinue)
    {
        await using var factory = new ModelApiFactory(UnlimitedRates);
        await using var connection = await RawHttpConnection.OpenAsync(factory.StartKestrel());

        // Only the head is sent: the answer must come without the server reading (or asking for) any body byte.
        await connection.SendAsync(
            "POST " + route + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + (expectContinue ? "Expect: 100-continue\r\n" : string.Empty)
            + "Content-Length: " + (limit + 1) + "\r\n\r\n");
        var response = await connection.ReadResponseAsync();

        Assert.Empty(response.InterimStatusCodes);
        Assert.Equal(413, response.StatusCode);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.Equal("nosniff", response.Headers["X-Content-Type-Options"]);
        using var problem = System.Text.Json.JsonDocument.Parse(response.Body);
        Assert.Equal(limit, problem.RootElement.GetProperty("limit").GetInt64());
    }

    [Theory]
    [InlineData("/v1/predict", 1024 * 1024)]
    [InlineData("/v1/chat/completions", 10 * 1024 * 1024)]
    public async Task ChunkedBodyOverTheLimit_IsCutAtTheLimitWith413Problem(string route, long limit)
    {
        var logs = new LogCapture();
        await using var factory = new ModelApiFactory(UnlimitedRates, logs);
        var connection = await RawHttpConnection.OpenAsync(factory.StartKestrel());

        await connection.SendAsync("POST " + route + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        var answer = connection.ReadResponseAsync();
        var chunk = System.Text.Encoding.ASCII.GetBytes("10000\r\n" + new string(' ', 0x10000) + "\r\n");
        // A body with no end in sight (64 MiB at most): the answer must come while it is still being sent (socket and
        // server buffers hold a few MiB beyond the limit, so the bound is not the limit itself).
        const long Endless = 64L * 1024 * 1024;
        long sent = 0;
        while (!answer.IsCompleted && sent < Endless && await connection.TrySendAsync(chunk))
        {
            sent += 0x10000;
        }

        var response = await answer;

        Assert.Equal(413, response.StatusCode);
        Assert.Equal("application/problem+json", response.MediaType);
        Assert.True(sent < Endless, "the server answered only after " + sent + " bytes");
        using (var problem = System.Text.Json.JsonDocument.Parse(response.Body))
        {
            Assert.Equal(limit, problem.RootElement.GetProperty("limit").GetInt64());
        }

        // The server hangs up instead of draining a body it refused (as NGINX closes after its 413).
        Assert.True(await connection.IsClosedByServerAsync(TimeSpan.FromSeconds(30)));
        await connection.DisposeAsync();
        await factory.DisposeAsync();   // stops the host: every request has finished logging
        Assert.Empty(logs.Errors());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Train_OnKestrel_TakesABodyAboveKestrelsDefault30MB(bool chunked)
    {
        await using var factory = new ModelApiFactory(UnlimitedRates);
        await using var connection = await RawHttpConnection.OpenAsync(factory.StartKestrel());
        var body = System.Text.Encoding.ASCII.GetBytes("{\"data\":\"" + new string('x', 31_000_000) + "\"}");

        await connection.SendAsync("POST /v1/train HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + (chunked ? "Transfer-Encoding: chunked\r\n\r\n" + body.Length.ToString("X", System.Globalization.CultureInfo.InvariantCulture) + "\r\n" : "Content-Length: " + body.Length + "\r\n\r\n"));
        await connection.SendAsync(body);
        if (chunked)
        {
            await connection.SendAsync("\r\n0\r\n\r\n");
        }

        var response = await connection.ReadResponseAsync();

        Assert.True(response.StatusCode == 202, response.StatusCode + " " + response.Body);
    }

    private static Dictionary<string, string?> UnlimitedRates => new()
    {
        ["AiEdge:RateLimiting:Tiers:predict:Rate"] = "1000r/s",
        ["AiEdge:RateLimiting:Tiers:predict:Burst"] = "1000",
        ["AiEdge:RateLimiting:Tiers:train:Rate"] = "1000r/s",
        ["AiEdge:RateLimiting:Tiers:train:Burst"] = "1000",
        ["AiEdge:RateLimiting:Tiers:generate:Rate"] = "1000r/s",
        ["AiEdge:RateLimiting:Tiers:generate:Burst"] = "1000",
    };

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/v1/predict");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");
        return request;
    }
}
