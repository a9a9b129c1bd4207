using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>The sample's identity from outside: anonymous routes stay open, the demo API keys are recognised, bad credentials are refused.</summary>
public sealed class AuthenticationAcceptanceTests
{
    private const string ProKey = "aiedge-sample-pro-key";
    private const string FreeKey = "aiedge-sample-free-key";
    private const string JwtIssuer = "https://issuer.sample.test";
    private const string JwtAudience = "model-api";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly RSA Rsa = RSA.Create(2048);
    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);

    /// <summary>The sample with JWTs enabled beside its demo keys: an RSA and an HMAC key configured, RS256 the only algorithm allowed.</summary>
    private static Dictionary<string, string?> JwtSettings() => new()
    {
        ["AiEdge:Authentication:Jwt:ValidIssuers:0"] = JwtIssuer,
        ["AiEdge:Authentication:Jwt:ValidAudiences:0"] = JwtAudience,
        ["AiEdge:Authentication:Jwt:SigningKeys:0:PublicKeyPem"] = Rsa.ExportSubjectPublicKeyInfoPem(),
        ["AiEdge:Authentication:Jwt:SigningKeys:1:Secret"] = Convert.ToBase64String(Secret),
        ["AiEdge:Authentication:Jwt:Algorithms:0"] = "RS256",
        ["AiEdge:RateLimiting:Tiers:train:Rate"] = "10r/s",
        ["AiEdge:RateLimiting:Tiers:train:Burst"] = "10",
    };

    /// <summary>A compact JWS built by hand: RS256 with the configured RSA key, HS256 with <paramref name="hmacKey"/>, or unsigned.</summary>
    private static string Token(string alg, string subject = "alice", byte[]? hmacKey = null)
    {
        var now = DateTimeOffset.UtcNow;
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg, typ = "JWT" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new
        {
            iss = JwtIssuer,
            aud = JwtAudience,
            sub = subject,
            nbf = now.AddMinutes(-1).ToUnixTimeSeconds(),
            exp = now.AddHours(1).ToUnixTimeSeconds(),
            scope = "predict train",
        }));
        var input = Encoding.ASCII.GetBytes(header + "." + payload);
        var signature = alg switch
        {
            "RS256" => Rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            "HS256" => HMACSHA256.HashData(hmacKey ?? Secret, input),
            _ => [],
        };
        return header + "." + payload + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    private static HttpRequestMessage Predict(Action<HttpRequestMessage>? credentials = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/predict")
        {
            Content = new StringContent("{\"model\":\"m\",\"input\":\"I love this great API\"}", Encoding.UTF8, "application/json"),
        };
        credentials?.Invoke(request);
        return request;
    }

    [Fact]
    public async Task Predict_WithoutCredentials_IsServedAnonymously()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(Predict()).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("WWW-Authenticate"));
    }

    [Theory]
    [InlineData("X-API-Key", ProKey)]
    [InlineData("X-API-Key", FreeKey)]
    [InlineData("Authorization", "Bearer " + ProKey)]
    public async Task Predict_WithDemoKey_IsServed(string header, string value)
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(Predict(r => r.Headers.TryAddWithoutValidation(header, value))).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("positive", body.GetProperty("label").GetString());
    }

    [Theory]
    [InlineData("X-API-Key", "not-a-sample-key", HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\"")]
    [InlineData("Authorization", "Bearer not-a-sample-key", HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\"")]
    [InlineData("Authorization", "Bearer", HttpStatusCode.BadRequest, "Bearer error=\"invalid_request\"")]
    [InlineData("Authorization", "Bearer a.b.c", HttpStatusCode.Unauthorized, "Bearer error=\"invalid_token\"")]
    public async Task Predict_WithBadCredentials_IsRefusedWithProblemAndChallenge(string header, string value, HttpStatusCode status, string challenge)
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(Predict(r => r.Headers.TryAddWithoutValidation(header, value))).WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(response, status);
        Assert.StartsWith(challenge, string.Join(", ", response.Headers.GetValues("WWW-Authenticate")), StringComparison.Ordinal);

        using var after = await client.SendAsync(Predict(r => r.Headers.Add("X-API-Key", ProKey))).WaitAsync(Timeout);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task ConfiguredKey_FromEnvironmentStyleOverride_IsAccepted()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["AiEdge:Authentication:ApiKeys:Keys:ops:Hash"] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ["AiEdge:Authentication:ApiKeys:Keys:ops:Plan"] = "pro",
        });
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(Predict(r => r.Headers.Add("X-API-Key", "abc"))).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BadKeyConfiguration_FailsAtStartupNamingTheKey()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["AiEdge:Authentication:ApiKeys:Keys:ops:Hash"] = "not-a-hash",
        });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("AiEdge:Authentication:ApiKeys:Keys:ops:Hash", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jwt_SignedWithTheAllowedAlgorithm_IsServed()
    {
        await using var factory = new ModelApiFactory(JwtSettings());
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(Predict(r => r.Headers.Add("Authorization", "Bearer " + Token("RS256")))).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string> AlgorithmsOutsideTheAllowList => new()
    {
        // HS256 with the HMAC secret the sample does hold: a valid signature, but HS256 is not allowed.
        { "HS256 with the configured secret", Token("HS256") },
        // HS256 "signed" with the RSA public key as the secret: the key-confusion forgery.
        { "HS256 with the RSA public key", Token("HS256", hmacKey: Encoding.ASCII.GetBytes(Rsa.ExportSubjectPublicKeyInfoPem())) },
        { "alg none", Token("none") },
        { "alg None", Token("None") },
    };

    [Theory]
    [MemberData(nameof(AlgorithmsOutsideTheAllowList))]
    public async Task Jwt_SignedWithAnAlgorithmOutsideTheAllowList_IsRefusedWithProblem(string name, string token)
    {
        await using var factory = new ModelApiFactory(JwtSettings());
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(Predict(r => r.Headers.Add("Authorization", "Bearer " + token))).WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.True(response.Headers.Contains("WWW-Authenticate"), name);
    }

    [Fact]
    public async Task Jwt_WithSubjectEqualToAKeyName_GetsNeitherTheKeysPredictionNorItsIdempotencyRecord()
    {
        await using var factory = new ModelApiFactory(JwtSettings());
        using var client = factory.CreateClient();
        var input = "tenant " + Guid.NewGuid().ToString("n") + " great";
        var job = "\"" + Guid.NewGuid().ToString("n") + "\"";
        Action<HttpRequestMessage> asKey = r => r.Headers.Add("X-API-Key", ProKey);
        Action<HttpRequestMessage> asToken = r => r.Headers.Add("Authorization", "Bearer " + Token("RS256", subject: "sample-pro"));

        var keyPrediction = await SendAsync(client, "/v1/predict", JsonSerializer.Serialize(new { model = "m", input }), asKey);
        var tokenPrediction = await SendAsync(client, "/v1/predict", JsonSerializer.Serialize(new { model = "m", input }), asToken);
        var keyJob = await SendAsync(client, "/v1/train", "{\"dataset\":\"d\"}", asKey, job);
        var tokenJob = await SendAsync(client, "/v1/train", "{\"dataset\":\"d\"}", asToken, job);

        Assert.Equal(HttpStatusCode.OK, tokenPrediction.Status);
        Assert.Equal("MISS", tokenPrediction.Cache);
        Assert.NotEqual(keyPrediction.Body.GetProperty("invocation").GetString(), tokenPrediction.Body.GetProperty("invocation").GetString());
        Assert.Equal(HttpStatusCode.Accepted, tokenJob.Status);
        Assert.False(tokenJob.Replayed);
        Assert.NotEqual(keyJob.Body.GetProperty("job").GetString(), tokenJob.Body.GetProperty("job").GetString());
    }

    private static async Task<(HttpStatusCode Status, string Cache, bool Replayed, JsonElement Body)> SendAsync(
        HttpClient client, string path, string json, Action<HttpRequestMessage> credentials, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        credentials(request);
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        using var response = await client.SendAsync(request).WaitAsync(Timeout);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(Timeout)).RootElement.Clone();
        var cache = response.Headers.TryGetValues("X-Cache", out var values) ? string.Join(",", values) : "";
        var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var marker) && string.Join(",", marker) == "true";
        return (response.StatusCode, cache, replayed, body);
    }
}
