using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using static AiEdge.Middleware.Authentication.Tests.AuthTestHost;

namespace AiEdge.Middleware.Authentication.Tests;

public sealed class ApiKeyAuthenticationIntegrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ApiKeyHeader_KnownKey_GivesCallerNamePlanAndScopes()
    {
        await using var app = await StartAsync();

        using var response = await app.Client.SendAsync(Get("/open", apiKey: TestKeys.ProKey)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("authenticated").GetBoolean());
        Assert.Equal("key:pro-app", body.GetProperty("id").GetString());
        Assert.Equal("pro", body.GetProperty("plan").GetString());
        Assert.Equal("pro-app", body.GetProperty("key").GetString());
        Assert.Equal(EdgeAuthenticationDefaults.ApiKeyScheme, body.GetProperty("scheme").GetString());
        Assert.Equal(new[] { "predict", "generate" }, body.GetProperty("scopes").EnumerateArray().Select(static s => s.GetString()!).ToArray());
    }

    [Fact]
    public async Task BearerApiKey_KnownKey_AuthenticatesLikeTheHeader()
    {
        await using var app = await StartAsync();

        using var response = await app.Client.SendAsync(Get("/predict", bearer: TestKeys.ProKey)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("key:pro-app", body.GetProperty("id").GetString());
    }

    [Fact]
    public async Task NoCredentials_AnonymousEndpoint_PassesThroughAsAnonymous()
    {
        await using var app = await StartAsync();

        using var response = await app.Client.GetAsync("/open").WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(body.GetProperty("authenticated").GetBoolean());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("id").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("plan").ValueKind);
        Assert.Null(Challenge(response));
    }

    [Theory]
    [InlineData("/authenticated")]
    [InlineData("/predict")]
    [InlineData("/attribute")]
    [InlineData("/group/plain")]
    public async Task NoCredentials_EndpointWithRequirement_Is401WithBareBearerChallenge(string path)
    {
        await using var app = await StartAsync();

        using var response = await app.Client.GetAsync(path).WaitAsync(Timeout);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", Challenge(response));
        Assert.Equal(path, problem.GetProperty("instance").GetString());
    }

    [Fact]
    public async Task UnknownKey_Is401InvalidToken()
    {
        await using var app = await StartAsync();

        using var response = await app.Client.SendAsync(Get("/predict", apiKey: "sk_test_unknown_0000")).WaitAsync(Timeout);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("invalid_token", problem.GetProperty("error").GetString());
        Assert.StartsWith("Bearer error=\"invalid_token\"", Challenge(response));
    }

    [Fact]
    public async Task UnknownKey_AnonymousEndpoint_IsRefusedByDefault()
    {
        await using var app = await StartAsync();

        using var response = await app.Client.SendAsync(Get("/open", apiKey: "sk_test_unknown_0000")).WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task UnknownKey_AnonymousEndpoint_ServedAnonymouslyWhenRejectInvalidCredentialsIsOff()
    {
        var configuration = TestKeys.Configuration();
        configuration["AiEdge:Authentication:RejectInvalidCredentials"] = "false";
        await using var app = await StartAsync(configuration);

        using var open = await app.Client.SendAsync(Get("/open", apiKey: "sk_test_unknown_0000")).WaitAsync(Timeout);
        using var scoped = await app.Client.SendAsync(Get("/predict", apiKey: "sk_test_unknown_0000")).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        Assert.False((await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("authenticated").GetBoolean());
        await ProblemAssert.IsProblemAsync(scoped, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task KeyWithoutScope_Is403InsufficientScopeNamingTheScope()
    {
        await using var app = await StartAsync();

        using var response = await app.Client.SendAsync(Get("/predict", apiKey: TestKeys.FreeKey)).WaitAsync(Timeout);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("insufficient_scope", problem.GetProperty("error").GetString());
        Assert.Equal(new[] { "predict" }, problem.GetProperty("required_scopes").EnumerateArray().Select(static s => s.GetString()!).ToArray());
        var challenge = Challenge(response);
        Assert.StartsWith("Bearer error=\"insufficient_scope\"", challenge);
        Assert.Contains("scope=\"predict\"", challenge);
    }

    [Theory]
    [InlineData(TestKeys.FreeKey, "/authenticated", HttpStatusCode.OK)]
    [InlineData(TestKeys.FreeKey, "/predict-and-generate", HttpStatusCode.Forbidden)]
    [InlineData(TestKeys.ProKey, "/predict-and-generate", HttpStatusCode.OK)]
    [InlineData(TestKeys.AdminKey, "/predict-and-generate", HttpStatusCode.Forbidden)]
    [InlineData(TestKeys.ProKey, "/attribute", HttpStatusCode.Forbidden)]
    [InlineData(TestKeys.AdminKey, "/attribute", HttpStatusCode.OK)]
    [InlineData(TestKeys.ProKey, "/group/plain", HttpStatusCode.OK)]
    [InlineData(TestKeys.ProKey, "/group/admin", HttpStatusCode.Forbidden)]
    [InlineData(TestKeys.AdminKey, "/group/admin", HttpStatusCode.OK)]
    [InlineData(TestKeys.FreeKey, "/group/plain", HttpStatusCode.Forbidden)]
    public async Task ScopeRequirements_AllMustBeHeld(string key, string path, HttpStatusCode expected)
    {
        await using var app = await StartAsync();

        using var response = await app.Client.SendAsync(Get(path, apiKey: key)).WaitAsync(Timeout);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task RequireAuthenticatedCaller_Global_RefusesAnonymousExceptAllowAnonymous()
    {
        var configuration = TestKeys.Configuration();
        configuration["AiEdge:Authentication:RequireAuthenticatedCaller"] = "true";
        await using var app = await StartAsync(configuration);

        using var open = await app.Client.GetAsync("/open").WaitAsync(Timeout);
        using var allowed = await app.Client.GetAsync("/anonymous").WaitAsync(Timeout);
        using var authenticated = await app.Client.SendAsync(Get("/open", apiKey: TestKeys.FreeKey)).WaitAsync(Timeout);
        using var missing = await app.Client.GetAsync("/no-such-route").WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(open, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authenticated.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task CustomHeaderName_ReadsKeysFromIt()
    {
        var configuration = TestKeys.Configuration(jwt: false);
        configuration["AiEdge:Authentication:ApiKeys:HeaderName"] = "X-Model-Key";
        await using var app = await StartAsync(configuration);

        using var custom = new HttpRequestMessage(HttpMethod.Get, "/predict");
        custom.Headers.Add("X-Model-Key", TestKeys.ProKey);
        using var response = await app.Client.SendAsync(custom).WaitAsync(Timeout);
        using var defaultHeader = await app.Client.SendAsync(Get("/predict", apiKey: TestKeys.ProKey)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await ProblemAssert.IsProblemAsync(defaultHeader, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AcceptBearerOff_BearerKeyIsNotRead()
    {
        var configuration = TestKeys.Configuration(jwt: false);
        configuration["AiEdge:Authentication:ApiKeys:AcceptBearer"] = "false";
        await using var app = await StartAsync(configuration);

        using var open = await app.Client.SendAsync(Get("/open", bearer: TestKeys.ProKey)).WaitAsync(Timeout);
        using var scoped = await app.Client.SendAsync(Get("/predict", bearer: TestKeys.ProKey)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        Assert.False((await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("authenticated").GetBoolean());
        await ProblemAssert.IsProblemAsync(scoped, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task KeysConfiguredInCode_AreAcceptedWithConfigurationKeys()
    {
        await using var app = await StartAsync(
            TestKeys.Configuration(jwt: false),
            options => options.ApiKeys.Add("code-app", ApiKeyHasher.ComputeHash("sk_code_key_123456"), "pro", "predict"));

        using var fromCode = await app.Client.SendAsync(Get("/predict", apiKey: "sk_code_key_123456")).WaitAsync(Timeout);
        using var fromConfiguration = await app.Client.SendAsync(Get("/predict", apiKey: TestKeys.ProKey)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, fromCode.StatusCode);
        Assert.Equal("key:code-app", (await fromCode.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.OK, fromConfiguration.StatusCode);
    }

    [Fact]
    public async Task ConcurrentCallers_EachSeesOnlyItsOwnIdentity()
    {
        await using var app = await StartAsync();
        var keys = new[] { (TestKeys.FreeKey, "free-app"), (TestKeys.ProKey, "pro-app"), (TestKeys.AdminKey, "admin") };

        var tasks = Enumerable.Range(0, 300).Select(async i =>
        {
            var (key, name) = keys[i % keys.Length];
            using var response = await app.Client.SendAsync(Get("/open", apiKey: key)).WaitAsync(Timeout);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (name, id: body.GetProperty("id").GetString());
        });
        var results = await Task.WhenAll(tasks);

        Assert.All(results, static result => Assert.Equal("key:" + result.name, result.id));
    }
}
