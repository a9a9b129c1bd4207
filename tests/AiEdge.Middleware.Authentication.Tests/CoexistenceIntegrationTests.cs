using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiEdge.Middleware.Testing;
using static AiEdge.Middleware.Authentication.Tests.AuthTestHost;

namespace AiEdge.Middleware.Authentication.Tests;

/// <summary>
/// AiEdge authentication beside an app made from the <c>webapi</c> template, with its own JwtBearer scheme against an
/// identity provider: every order of the template's middleware, with and without a default scheme.
/// </summary>
public sealed class CoexistenceIntegrationTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private FakeIdentityProvider _idp = null!;

    public static TheoryData<TemplateOrder, bool> Shapes()
    {
        var data = new TheoryData<TemplateOrder, bool>();
        foreach (var order in Enum.GetValues<TemplateOrder>())
        {
            data.Add(order, true);
            data.Add(order, false);
        }

        return data;
    }

    public async Task InitializeAsync() => _idp = await FakeIdentityProvider.StartAsync();

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    // Found: [Authorize] answered 500 "contains authorization metadata, but a middleware was not found" with the
    // template's order, and 500 "No authenticationScheme was specified" without a default scheme.
    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task AuthorizeController_AppToken_IsServed(TemplateOrder order, bool defaultScheme)
    {
        await using var app = await WebApiTestHost.StartAsync(_idp, order, defaultScheme);

        using var response = await app.Client.SendAsync(Get("/weatherforecast", bearer: _idp.Token(WebApiTestHost.AppAudience))).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("authenticated").GetBoolean());
        Assert.StartsWith("app:", body.GetProperty("id").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task RequireAuthorization_AppToken_IsServed(TemplateOrder order, bool defaultScheme)
    {
        await using var app = await WebApiTestHost.StartAsync(_idp, order, defaultScheme);

        using var response = await app.Client.SendAsync(Get("/minimal", bearer: _idp.Token(WebApiTestHost.AppAudience))).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task AuthorizeController_NoCredentials_Is401ProblemWithSecurityHeaders(TemplateOrder order, bool defaultScheme)
    {
        await using var app = await WebApiTestHost.StartAsync(_idp, order, defaultScheme);

        using var response = await app.Client.SendAsync(Get("/weatherforecast")).WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        SecurityHeadersAssert.HasApiPreset(response);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task ApiKey_BesideTheAppScheme_IsServedOnScopedAndAuthorizeEndpoints(TemplateOrder order, bool defaultScheme)
    {
        await using var app = await WebApiTestHost.StartAsync(_idp, order, defaultScheme);

        using var scoped = await app.Client.SendAsync(Get("/predict", apiKey: TestKeys.ProKey)).WaitAsync(Timeout);
        using var bearer = await app.Client.SendAsync(Get("/predict", bearer: TestKeys.ProKey)).WaitAsync(Timeout);
        using var authorize = await app.Client.SendAsync(Get("/weatherforecast", apiKey: TestKeys.ProKey)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, scoped.StatusCode);
        Assert.Equal(AiEdgeCallerIds.ApiKey("pro-app"), (await scoped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorize.StatusCode);
        Assert.Equal(AiEdgeCallerIds.ApiKey("pro-app"), (await authorize.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
    }

    // Found: API keys accept "Authorization: Bearer" by default, and refused every token of the app's provider with
    // 401 "The API key is not valid".
    [Theory]
    [InlineData(TemplateOrder.BothBeforeUseAiEdge)]
    [InlineData(TemplateOrder.BothAfterUseAiEdge)]
    public async Task AppToken_WhereApiKeysReadBearer_IsNotRefusedAsAnApiKey(TemplateOrder order)
    {
        await using var app = await WebApiTestHost.StartAsync(_idp, order, defaultScheme: true);

        using var response = await app.Client.SendAsync(Get("/open", bearer: _idp.Token(WebApiTestHost.AppAudience))).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("authenticated").GetBoolean());
    }

    // Authorization after the app's routing but before AiEdge's authentication cannot see AiEdge's callers: refused at
    // startup (when UseAiEdge() builds the pipeline), naming what to move, instead of a 401 on every API-key caller.
    [Fact]
    public async Task RoutingAndAuthorizationBeforeUseAiEdge_FailsAtStartup_NamingWhatToMove()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => WebApiTestHost.StartAsync(_idp, AppRoutedOrder.RoutingAndAuthorizationBeforeUseAiEdge, defaultScheme: true));

        Assert.Contains("Move app.UseAuthorization() after app.UseAiEdge()", error.Message, StringComparison.Ordinal);
    }

    // With its own UseAuthentication() before, the app authorizes with its own scheme where it placed authorization.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RoutingAuthenticationAndAuthorizationBeforeUseAiEdge_ServesAppTokens(bool defaultScheme)
    {
        await using var app = await WebApiTestHost.StartAsync(_idp, AppRoutedOrder.AllBeforeUseAiEdge, defaultScheme);

        using var response = await app.Client.SendAsync(Get("/weatherforecast", bearer: _idp.Token(WebApiTestHost.AppAudience))).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // Found: a JwtBearer user with scope=predict got 401 from .RequireScopes("predict").
    [Theory]
    [InlineData("scope", "predict generate")]
    [InlineData("scp", "predict")]
    [InlineData("scp", new[] { "generate", "predict" })]
    public async Task AppTokenScopes_SatisfyRequireScopes(string claim, object value)
    {
        await using var app = await WebApiTestHost.StartAsync(_idp, TemplateOrder.AuthorizationBeforeUseAiEdge, defaultScheme: false);
        var token = _idp.Token(WebApiTestHost.AppAudience, new Dictionary<string, object> { [claim] = value });

        using var response = await app.Client.SendAsync(Get("/predict", bearer: token)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AppTokenWithoutTheScope_Is403()
    {
        await using var app = await WebApiTestHost.StartAsync(_idp, TemplateOrder.BothBeforeUseAiEdge, defaultScheme: true);
        var token = _idp.Token(WebApiTestHost.AppAudience, new Dictionary<string, object> { ["scope"] = "generate" });

        using var response = await app.Client.SendAsync(Get("/predict", bearer: token)).WaitAsync(Timeout);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("insufficient_scope", problem.GetProperty("error").GetString());
    }

    // Found: plan claims of the app's tokens were ignored.
    [Theory]
    [InlineData(TemplateOrder.BothBeforeUseAiEdge)]
    [InlineData(TemplateOrder.BothAfterUseAiEdge)]
    public async Task AppTokenPlan_IsTheCallersPlan(TemplateOrder order)
    {
        await using var app = await WebApiTestHost.StartAsync(_idp, order, defaultScheme: true);
        var token = _idp.Token(WebApiTestHost.AppAudience, new Dictionary<string, object> { ["plan"] = "pro" });

        using var response = await app.Client.SendAsync(Get("/open", bearer: token)).WaitAsync(Timeout);

        Assert.Equal("pro", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task ConfiguredScopeAndPlanClaims_AreRead()
    {
        var configuration = TestKeys.Configuration(jwt: false);
        configuration["AiEdge:Authentication:ScopeClaims:0"] = "permissions";
        configuration["AiEdge:Authentication:PlanClaim"] = "tier";
        await using var app = await WebApiTestHost.StartAsync(_idp, TemplateOrder.BothBeforeUseAiEdge, defaultScheme: true, configuration);
        var token = _idp.Token(WebApiTestHost.AppAudience, new Dictionary<string, object> { ["permissions"] = new[] { "predict" }, ["tier"] = "gold", ["scope"] = "other" });

        using var response = await app.Client.SendAsync(Get("/predict", bearer: token)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("gold", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task AiEdgeJwtFailure_DoesNotMaskTheAppSchemesSuccess()
    {
        // AiEdge's own JWT scheme is on (static keys of another issuer): it refuses the app's token, the app's accepts it
        // (and the other way round). The host runs on the system clock, as the app's JwtBearer does.
        await using var app = await WebApiTestHost.StartAsync(_idp, TemplateOrder.BothBeforeUseAiEdge, defaultScheme: true, TestKeys.Configuration());
        var token = _idp.Token(WebApiTestHost.AppAudience, new Dictionary<string, object> { ["scope"] = "predict" });

        using var predict = await app.Client.SendAsync(Get("/predict", bearer: token)).WaitAsync(Timeout);
        var now = DateTimeOffset.UtcNow;
        var edge = TestKeys.Token(notBefore: now, expires: now.AddHours(1), claims: new Dictionary<string, object> { ["scope"] = "predict" });
        using var edgeToken = await app.Client.SendAsync(Get("/predict", bearer: edge)).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        Assert.StartsWith("app:", (await predict.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, edgeToken.StatusCode);
        Assert.StartsWith("jwt:", (await edgeToken.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenNoSchemeAccepts_IsRefusedWith401Problem()
    {
        await using var app = await WebApiTestHost.StartAsync(_idp, TemplateOrder.BothBeforeUseAiEdge, defaultScheme: true);
        var token = _idp.Token("someone-else", new Dictionary<string, object> { ["scope"] = "predict" });

        using var predict = await app.Client.SendAsync(Get("/predict", bearer: token)).WaitAsync(Timeout);
        using var authorize = await app.Client.SendAsync(Get("/weatherforecast", bearer: token)).WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(predict, HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(authorize, HttpStatusCode.Unauthorized);
        SecurityHeadersAssert.HasApiPreset(authorize);
    }
}
