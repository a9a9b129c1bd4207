using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>The sample's identity from outside: anonymous routes stay open, the demo API keys are recognised, bad credentials are refused.</summary>
public sealed class AuthenticationAcceptanceTests
{
    private const string ProKey = "aiedge-sample-pro-key";
    private const string FreeKey = "aiedge-sample-free-key";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

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
}
