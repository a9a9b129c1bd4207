using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>
/// The sample as an attacker sees it: identities that try to pass for one another, bodies that mean one thing to the
/// cache key and another to the model, broken framing, oversized and over-announced bodies, partition floods,
/// origins spelled another way, and a spray of hostile header values. Whatever the input, the answer is a 2xx/3xx or
/// a 4xx (or a documented 503) problem, never a 500, a hang, or another caller's data.
/// </summary>
public sealed class AttackAcceptanceTests
{
    private const string ProKey = "aiedge-sample-pro-key";
    private const string ProKeyName = "sample-pro";
    private const string Issuer = "https://issuer.attack.test";
    private const string Audience = "aiedge-sample";
    private static readonly byte[] Secret = SHA256.HashData(Encoding.UTF8.GetBytes("attack-suite-signing-secret"));
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // The sample with JWT bearer on beside its API keys, and the train tier partitioned by caller.
    private static Dictionary<string, string?> WithJwt(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["AiEdge:Authentication:Jwt:ValidIssuers:0"] = Issuer,
            ["AiEdge:Authentication:Jwt:ValidAudiences:0"] = Audience,
            ["AiEdge:Authentication:Jwt:SigningKeys:0:Secret"] = Convert.ToBase64String(Secret),
            ["AiEdge:Authentication:Jwt:Algorithms:0"] = "HS256",
            ["AiEdge:RateLimiting:Tiers:train:Partition"] = "Caller",
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    // ---- identity: no source of identity can pose as another ---------------------------------------------------

    public static TheoryData<string> ImpersonatingClaims => new()
    {
        "{\"sub\":\"sample-pro\"}",
        "{\"sub\":\"key:sample-pro\"}",
        "{\"sub\":\"x\",\"aiedge:api_key\":\"sample-pro\"}",
        "{\"sub\":\"sample-pro\",\"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier\":\"sample-pro\"}",
        "{\"sub\":\"sample-pro\\u0000\"}",
    };

    [Theory]
    [MemberData(nameof(ImpersonatingClaims))]
    public async Task Jwt_NamedLikeAnApiKey_GetsNoneOfTheKeysCacheIdempotencyOrQuota(string claims)
    {
        await using var factory = new ModelApiFactory(WithJwt());
        using var client = factory.CreateClient();
        var token = Jwt(claims);
        var predict = "{\"model\":\"m\",\"input\":\"tenant " + Guid.NewGuid().ToString("n") + " great\"}";
        var idempotencyKey = "\"attack-" + Guid.NewGuid().ToString("n") + "\"";

        using var keyPredict = await SendAsync(client, HttpMethod.Post, "/v1/predict", predict, ("X-API-Key", ProKey));
        using var keyTrain = await SendAsync(client, HttpMethod.Post, "/v1/train", "{\"data\":1}", ("X-API-Key", ProKey), ("Idempotency-Key", idempotencyKey));
        using var jwtPredict = await SendAsync(client, HttpMethod.Post, "/v1/predict", predict, ("Authorization", "Bearer " + token));
        using var jwtTrain = await SendAsync(client, HttpMethod.Post, "/v1/train", "{\"data\":1}", ("Authorization", "Bearer " + token), ("Idempotency-Key", idempotencyKey));

        Assert.Equal(HttpStatusCode.OK, keyPredict.StatusCode);
        Assert.True(keyTrain.StatusCode == HttpStatusCode.Accepted, await keyTrain.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, jwtPredict.StatusCode);
        Assert.Equal("MISS", Header(jwtPredict, "X-Cache"));
        Assert.NotEqual(await FieldAsync(keyPredict, "invocation"), await FieldAsync(jwtPredict, "invocation"));

        // The train tier is 1r/m per caller: the key spent its request, the token has its own bucket and its own record.
        Assert.True(jwtTrain.StatusCode == HttpStatusCode.Accepted, await jwtTrain.Content.ReadAsStringAsync());
        Assert.Null(Header(jwtTrain, "Idempotent-Replayed"));
        Assert.NotEqual(await FieldAsync(keyTrain, "job"), await FieldAsync(jwtTrain, "job"));
    }

    [Fact]
    public async Task Jwt_SameSubjectFromTheSameIssuer_IsOneCaller()
    {
        await using var factory = new ModelApiFactory(WithJwt());
        using var client = factory.CreateClient();
        var predict = "{\"model\":\"m\",\"input\":\"same caller " + Guid.NewGuid().ToString("n") + "\"}";

        using var first = await SendAsync(client, HttpMethod.Post, "/v1/predict", predict, ("Authorization", "Bearer " + Jwt("{\"sub\":\"alice\"}")));
        using var second = await SendAsync(client, HttpMethod.Post, "/v1/predict", predict, ("Authorization", "Bearer " + Jwt("{\"sub\":\"alice\",\"jti\":\"other\"}")));

        Assert.Equal("MISS", Header(first, "X-Cache"));
        Assert.Equal("HIT", Header(second, "X-Cache"));
    }

    public static TheoryData<string> ForgedTokens => new()
    {
        Unsigned("{\"alg\":\"none\",\"typ\":\"JWT\"}"),
        Unsigned("{\"alg\":\"None\"}"),
        Forged("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", HMACSHA384.HashData),
        Forged("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", static (key, data) => HMACSHA256.HashData(Encoding.UTF8.GetBytes("wrong-secret-wrong-secret-wrong!!"), data)),
        Jwt("{\"sub\":\"alice\",\"exp\":1000}"),
        Jwt("{\"sub\":\"alice\",\"aud\":\"someone-else\"}"),
        Jwt("{\"sub\":\"alice\",\"iss\":\"https://evil.test\"}"),
    };

    [Theory]
    [MemberData(nameof(ForgedTokens))]
    public async Task ForgedOrMisdirectedToken_Is401Problem(string token)
    {
        await using var factory = new ModelApiFactory(WithJwt());
        using var client = factory.CreateClient();

        using var response = await SendAsync(client, HttpMethod.Post, "/v1/predict", "{\"model\":\"m\",\"input\":\"great\"}", ("Authorization", "Bearer " + token));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        SecurityHeadersAssert.HasApiPreset(response);
    }

    // ---- the cache key means what the model reads ----------------------------------------------------------------

    public static TheoryData<string> AmbiguousBodies => new()
    {
        "{\"model\":\"m\",\"input\":\"great\",\"Input\":\"terrible\"}",
        "{\"model\":\"m\",\"input\":\"great\",\"INPUT\":\"terrible\"}",
        "{\"model\":\"m\",\"input\":\"great\",\"\\u0069nput\":\"terrible\"}",
        "{\"model\":\"m\",\"\\u0049NPUT\":\"great\",\"input\":\"terrible\"}",
        "{\"model\":\"m\",\"input\":\"great\",\"input\":\"terrible\"}",
        "{\"model\":\"m\",\"model\":\"n\",\"input\":\"great\"}",
        "{\"model\":\"m\",\"input\":\"great\",\"meta\":{\"a\":1,\"A\":2}}",
        "{\"model\":\"m\",\"input\":\"great\",\"items\":[{\"x\":1},{\"x\":1,\"\\u0078\":2}]}",
    };

    [Theory]
    [MemberData(nameof(AmbiguousBodies))]
    public async Task Predict_BodyWithDuplicateMembers_Is400AndNeverServedAnotherInputsAnswer(string body)
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        // Whatever the duplicate's spelling, the plain body that the cache might confuse it with is stored first.
        using var plain = await SendAsync(client, HttpMethod.Post, "/v1/predict", "{\"model\":\"m\",\"input\":\"great\"}");
        using var duplicate = await SendAsync(client, HttpMethod.Post, "/v1/predict", body);

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        await ProblemAssert.IsProblemAsync(duplicate, HttpStatusCode.BadRequest);
        Assert.NotEqual("HIT", Header(duplicate, "X-Cache"));
    }

    [Theory]
    [InlineData("{\"model\":\"m\",\"input\":\"great\"}", "{\"model\":\"m\",\"input\":\"gre\\u0061t\"}", true)]
    [InlineData("{\"model\":\"m\",\"input\":\"great\"}", "{ \"input\" : \"great\" , \"model\" : \"m\" }", true)]
    [InlineData("{\"model\":\"m\",\"input\":\"great\"}", "{\"model\":\"m\",\"input\":\"great \"}", false)]
    [InlineData("{\"model\":\"m\",\"input\":\"great\"}", "{\"model\":\"m\",\"input\":\"Great\"}", false)]
    [InlineData("{\"model\":\"m\",\"input\":\"great\",\"delay_ms\":1}", "{\"model\":\"m\",\"input\":\"great\",\"delay_ms\":1.0}", false)]
    [InlineData("{\"model\":\"m\",\"input\":\"great\",\"opts\":{\"user\":\"a\"}}", "{\"model\":\"m\",\"input\":\"great\",\"opts\":{\"user\":\"b\"}}", false)]
    public async Task Predict_Respellings_ShareAKeyOnlyWhenTheModelReadsTheSame(string first, string second, bool hit)
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();
        var nonce = Guid.NewGuid().ToString("n");

        using var a = await SendAsync(client, HttpMethod.Post, "/v1/predict", first.Replace("great", "great" + nonce, StringComparison.Ordinal));
        using var b = await SendAsync(client, HttpMethod.Post, "/v1/predict", second.Replace("great", "great" + nonce, StringComparison.Ordinal)
            .Replace("gre\\u0061t", "gre\\u0061t" + nonce, StringComparison.Ordinal).Replace("Great", "Great" + nonce, StringComparison.Ordinal));

        Assert.Equal("MISS", Header(a, "X-Cache"));
        if (hit)
        {
            Assert.Equal("HIT", Header(b, "X-Cache"));
        }
        else
        {
            Assert.NotEqual("HIT", Header(b, "X-Cache"));
        }
    }

    // ---- framing: broken chunking and lying lengths are the client's error ---------------------------------------

    public static TheoryData<string, string> BrokenFramings()
    {
        var data = new TheoryData<string, string>();
        string[] routes = ["/v1/predict", "/v1/train", "/v1/chat/completions"];
        string[] bodies =
        [
            "123456789\r\n{}\r\n0\r\n\r\n",
            "FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n",
            "10000000000000000\r\n{}\r\n0\r\n\r\n",
            "-1\r\n{}\r\n0\r\n\r\n",
            "zz\r\n{}\r\n0\r\n\r\n",
            "2\r\n{}XX0\r\n\r\n",
            " 2\r\n{}\r\n0\r\n\r\n",
        ];
        foreach (var route in routes)
        {
            foreach (var body in bodies)
            {
                data.Add(route, body);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BrokenFramings))]
    public async Task BrokenChunkedFraming_IsA4xxProblem_NeverA500(string route, string chunkedBody)
    {
        await using var factory = new ModelApiFactory();
        var address = factory.StartKestrel();

        var answer = await Raw.SendAsync(address, $"POST {route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedBody);

        Assert.InRange(answer.Status, 400, 499);
        Assert.Equal("application/problem+json", answer.MediaType);
    }

    [Theory]
    [InlineData("/v1/predict")]
    [InlineData("/v1/train")]
    [InlineData("/v1/chat/completions")]
    public async Task BodyShorterThanItsContentLength_IsA4xx_NeverA500(string route)
    {
        await using var factory = new ModelApiFactory();
        var address = factory.StartKestrel();

        // The client announces 100 bytes, sends 2 and half-closes: the body ends early.
        var answer = await Raw.SendAsync(address, $"POST {route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{}}", halfClose: true);

        if (answer.Status != 0)
        {
            Assert.InRange(answer.Status, 400, 499);
        }
    }

    [Theory]
    [InlineData("/v1/predict", 2L * 1024 * 1024)]
    [InlineData("/v1/train", 200L * 1024 * 1024)]
    [InlineData("/v1/chat/completions", 200L * 1024 * 1024)]
    [InlineData("/v1/predict", long.MaxValue)]
    public async Task OverLimitContentLength_WithExpectContinue_Is413ProblemAtOnce_WithoutContinue(string route, long length)
    {
        await using var factory = new ModelApiFactory();
        var address = factory.StartKestrel();

        // Only the head is sent: the answer must come from Content-Length alone, without asking for the body.
        var answer = await Raw.SendAsync(address, $"POST {route} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n");

        Assert.Equal(413, answer.Status);
        Assert.Equal("application/problem+json", answer.MediaType);
        Assert.DoesNotContain("100 Continue", answer.Head, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task OverLimitChunkedBody_Is413Problem()
    {
        await using var factory = new ModelApiFactory();
        var address = factory.StartKestrel();
        var chunk = new string('x', 64 * 1024);
        var body = new StringBuilder("{\"model\":\"m\",\"input\":\"");
        var request = new StringBuilder("POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        request.Append(body.Length.ToString("x")).Append("\r\n").Append(body).Append("\r\n");
        for (var i = 0; i < 20; i++)
        {
            request.Append(chunk.Length.ToString("x")).Append("\r\n").Append(chunk).Append("\r\n");
        }

        request.Append("2\r\n\"}\r\n0\r\n\r\n");

        var answer = await Raw.SendAsync(address, request.ToString());

        Assert.Equal(413, answer.Status);
        Assert.Equal("application/problem+json", answer.MediaType);
    }

    // ---- the limiter's table: a flood of new partitions frees nobody -----------------------------------------------

    [Fact]
    public async Task PartitionFlood_DoesNotFreeAnExhaustedClient()
    {
        // On Kestrel over loopback: the peer is the sample's trusted proxy, so X-Forwarded-For names the client.
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["AiEdge:RateLimiting:MaxPartitions"] = "64" });
        using var client = new HttpClient { BaseAddress = factory.StartKestrel() };

        using var first = await SendAsync(client, HttpMethod.Post, "/v1/train", "{}", ("X-Forwarded-For", "203.0.113.7"));
        using var limited = await SendAsync(client, HttpMethod.Post, "/v1/train", "{}", ("X-Forwarded-For", "203.0.113.7"));
        for (var i = 0; i < 500; i++)
        {
            using var flood = await SendAsync(client, HttpMethod.Post, "/v1/train", "{}", ("X-Forwarded-For", $"198.51.{i / 250}.{i % 250}"));
            Assert.True((int)flood.StatusCode is 202 or 429 or 503, $"flood request {i} answered {(int)flood.StatusCode}");
        }

        using var after = await SendAsync(client, HttpMethod.Post, "/v1/train", "{}", ("X-Forwarded-For", "203.0.113.7"));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        await ProblemAssert.IsProblemAsync(limited, HttpStatusCode.TooManyRequests);
        await ProblemAssert.IsProblemAsync(after, HttpStatusCode.TooManyRequests);
        Assert.True(after.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
    }

    // ---- documented behaviour: origins, HEAD ----------------------------------------------------------------------

    [Theory]
    [InlineData("http://app.example.com:80", "http://app.example.com", true)]
    [InlineData("http://app.example.com", "http://app.example.com:80", true)]
    [InlineData("https://app.example.com:443", "https://app.example.com", true)]
    [InlineData("https://app.example.com", "https://app.example.com:443", true)]
    [InlineData("https://app.example.com", "http://app.example.com", false)]
    [InlineData("https://app.example.com", "https://app.example.com:8443", false)]
    [InlineData("https://*.example.com", "https://a.example.com", true)]
    [InlineData("https://*.example.com", "https://-a.example.com", false)]
    [InlineData("https://*.example.com", "https://a-.example.com", false)]
    [InlineData("https://*.example.com", "https://a_b.example.com", false)]
    [InlineData("https://*.example.com", "https://.example.com", false)]
    [InlineData("https://*.example.com", "https://example.com", false)]
    [InlineData("https://*.example.com", "https://a.example.com.evil.net", false)]
    [InlineData("https://*.example.com", "https://a.example.com@evil.net", false)]
    public async Task Origin_MatchesItsNormalizedForm_AndWildcardsTakeOnlyDnsLabels(string configured, string origin, bool allowed)
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["AiEdge:Cors:AllowedOrigins:0"] = configured });
        using var client = factory.CreateClient();

        using var response = await SendAsync(client, HttpMethod.Options, "/v1/predict", null,
            ("Origin", origin), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "content-type"));

        Assert.Equal(allowed, Header(response, "Access-Control-Allow-Origin") is not null);
    }

    [Fact]
    public async Task Origin_WithAWildcardLabelOfMoreThan63Characters_IsRefused()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["AiEdge:Cors:AllowedOrigins:0"] = "https://*.example.com" });
        using var client = factory.CreateClient();

        using var longest = await SendAsync(client, HttpMethod.Options, "/v1/predict", null,
            ("Origin", "https://" + new string('a', 63) + ".example.com"), ("Access-Control-Request-Method", "POST"));
        using var tooLong = await SendAsync(client, HttpMethod.Options, "/v1/predict", null,
            ("Origin", "https://" + new string('a', 64) + ".example.com"), ("Access-Control-Request-Method", "POST"));

        Assert.NotNull(Header(longest, "Access-Control-Allow-Origin"));
        Assert.Null(Header(tooLong, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("/v1/client")]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/")]
    public async Task Head_OnEveryGetRoute_IsAnsweredLikeTheGetWithoutABody(string route)
    {
        await using var factory = new ModelApiFactory();
        var address = factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = address };

        using var get = await SendAsync(client, HttpMethod.Get, route, null);
        using var head = await SendAsync(client, HttpMethod.Head, route, null);

        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
        Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        foreach (var name in new[] { "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control" })
        {
            Assert.Equal(Header(get, name), Header(head, name));
        }

        Assert.Equal("nosniff", Header(head, "X-Content-Type-Options"));
    }

    // ---- a spray of hostile header values over every route ---------------------------------------------------------

    public static TheoryData<string, string> HostileHeaders => new()
    {
        { "X-Forwarded-For", string.Join(", ", Enumerable.Repeat("10.0.0.1", 2000)) },
        { "X-Forwarded-For", "not-an-ip, ::ffff:999.1.1.1, [::1]:80, 1.2.3.4%eth0, fe80::1%25lo" },
        { "X-Forwarded-For", "" },
        { "X-Forwarded-Proto", "javascript" },
        { "X-Forwarded-Host", "evil.test\r\nX-Injected: 1".Replace("\r\n", " ", StringComparison.Ordinal) },
        { "X-Forwarded-Prefix", "/../../admin" },
        { "X-Real-IP", "999.999.999.999" },
        { "Forwarded", "for=\"unterminated" },
        { "Forwarded", "for=1.2.3.4;for=5.6.7.8;by=;proto=\"\\\"" },
        { "Forwarded", string.Join(",", Enumerable.Repeat("for=\"[::1]:1\"", 1000)) },
        { "Idempotency-Key", "" },
        { "Idempotency-Key", new string('k', 10_000) },
        { "Idempotency-Key", "\"a\", \"b\"" },
        { "Idempotency-Key", "ключ" },
        { "Authorization", "Bearer " + new string('a', 100_000) },
        { "Authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l" },
        { "Authorization", "Bearer a.b" },
        { "Authorization", "Bearer e30.e30.e30" },
        { "Authorization", "Bearer ..." },
        { "Authorization", "bearer " + ProKey + " extra" },
        { "X-API-Key", "" },
        { "X-API-Key", new string('k', 100_000) },
        { "X-API-Key", ProKey + ", " + ProKey },
        { "Content-Type", "application/json; charset=utf-7" },
        { "Content-Type", "text/plain" },
        { "Content-Type", ";;;" },
        { "Accept-Encoding", "gzip, br, deflate, zstd, *;q=1000" },
        { "Origin", "null" },
        { "Origin", "http://[::1" },
        { "Access-Control-Request-Method", "POST\u00e9" },
        { "Cache-Control", "no-cache, max-age=-1, max-stale=99999999999999999999" },
        { "If-None-Match", "*" },
        { "Range", "bytes=0-0,1-1,2-2" },
        { "Expect", "teapot" },
    };

    [Theory]
    [MemberData(nameof(HostileHeaders))]
    public async Task HostileHeaderValue_OnAnyRoute_IsNeverA500(string name, string value)
    {
        await using var factory = new ModelApiFactory();
        var address = factory.StartKestrel();
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = static (_, _) => Encoding.UTF8 };
        using var client = new HttpClient(handler) { BaseAddress = address };
        (HttpMethod Method, string Path, string? Body)[] routes =
        [
            (HttpMethod.Post, "/v1/predict", "{\"model\":\"m\",\"input\":\"great\"}"),
            (HttpMethod.Post, "/v1/train", "{\"data\":1}"),
            (HttpMethod.Post, "/v1/chat/completions", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}"),
            (HttpMethod.Get, "/v1/client", null),
            (HttpMethod.Get, "/healthz", null),
            (HttpMethod.Get, "/readyz", null),
        ];

        foreach (var (method, path, body) in routes)
        {
            using var response = await SendAsync(client, method, path, body, (name, value));
            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"{method} {path} with {name} answered {status}");

            // Kestrel refuses some heads itself (431, a 400 for bytes it will not decode) with an empty body, before the
            // app runs; every error the app answers has a problem body.
            if (status >= 400 && response.Content.Headers.ContentLength > 0)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string? json, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        foreach (var (name, value) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value) && request.Content is not null)
            {
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        var response = await client.SendAsync(request).WaitAsync(Timeout);
        await response.Content.LoadIntoBufferAsync().WaitAsync(Timeout);
        return response;
    }

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;

    private static async Task<string?> FieldAsync(HttpResponseMessage response, string name)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty(name).GetString();
    }

    // A compact HS256 token for the suite's issuer and audience; claims given override the defaults.
    private static string Jwt(string claims)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var given = JsonDocument.Parse(claims);
        var payload = new Dictionary<string, object?> { ["iss"] = Issuer, ["aud"] = Audience, ["iat"] = now, ["exp"] = now + 600 };
        foreach (var property in given.RootElement.EnumerateObject())
        {
            payload[property.Name] = property.Value.Clone();
        }

        return Forged("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", HMACSHA256.HashData, JsonSerializer.Serialize(payload));
    }

    private static string Forged(string header, Func<byte[], byte[], byte[]> sign, string? payload = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        payload ??= JsonSerializer.Serialize(new { iss = Issuer, aud = Audience, sub = "alice", iat = now, exp = now + 600 });
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(header)) + "." + Base64Url(Encoding.UTF8.GetBytes(payload));
        return signingInput + "." + Base64Url(sign(Secret, Encoding.ASCII.GetBytes(signingInput)));
    }

    private static string Unsigned(string header)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = JsonSerializer.Serialize(new { iss = Issuer, aud = Audience, sub = "alice", iat = now, exp = now + 600 });
        return Base64Url(Encoding.UTF8.GetBytes(header)) + "." + Base64Url(Encoding.UTF8.GetBytes(payload)) + ".";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Raw HTTP/1.1 over a socket: what no well-behaved client library would send.</summary>
    private static class Raw
    {
        public sealed record Answer(int Status, string Head, string? MediaType);

        public static async Task<Answer> SendAsync(Uri address, string request, bool halfClose = false)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, address.Port, timeout.Token);
            try
            {
                await socket.SendAsync(Encoding.Latin1.GetBytes(request), timeout.Token);
                if (halfClose)
                {
                    socket.Shutdown(SocketShutdown.Send);
                }
            }
            catch (SocketException)
            {
                // The server may answer and close before it has read everything; the answer is still there to read.
            }

            var received = new MemoryStream();
            var buffer = new byte[8192];
            while (true)
            {
                int read;
                try
                {
                    read = await socket.ReceiveAsync(buffer, timeout.Token);
                }
                catch (SocketException)
                {
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                var text = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
                var final = FinalHeadEnd(text);
                if (final >= 0)
                {
                    return Parse(text[..final]);
                }
            }

            var all = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
            return all.Length == 0 ? new Answer(0, "", null) : Parse(all);
        }

        // The end of the first non-1xx head, or -1 while it has not fully arrived; 1xx heads stay in the text.
        private static int FinalHeadEnd(string text)
        {
            var start = 0;
            while (true)
            {
                var end = text.IndexOf("\r\n\r\n", start, StringComparison.Ordinal);
                if (end < 0)
                {
                    return -1;
                }

                if (!text.AsSpan(start).StartsWith("HTTP/1.1 1", StringComparison.Ordinal))
                {
                    return end;
                }

                start = end + 4;
            }
        }

        private static Answer Parse(string head)
        {
            var lines = head.Split("\r\n");
            var finalLine = Array.FindLast(lines, static line => line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal)) ?? lines[0];
            var status = int.Parse(finalLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            string? mediaType = null;
            foreach (var line in lines)
            {
                if (line.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase)
                    && MediaTypeHeaderValue.TryParse(line["Content-Type:".Length..].Trim(), out var parsed))
                {
                    mediaType = parsed.MediaType;
                }
            }

            return new Answer(status, head, mediaType);
        }
    }
}
