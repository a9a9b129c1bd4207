using System.Net;
using System.Net.Http.Headers;

namespace AiEdge.Middleware.Consumer.Tests;

/// <summary>
/// The <c>webapi --use-controllers</c> template app, <c>[Authorize]</c> on its controller, its own JwtBearer as the
/// default scheme, and <c>app.UseAiEdge()</c> before or after the template's <c>app.UseAuthorization()</c>.
/// </summary>
[Collection(ConsumerAppsCollection.Name)]
public sealed class WebApiTemplateAppTests(ConsumerApps apps)
{
    // Found: [Authorize] answered 500 "contains authorization metadata, but a middleware was not found" in the
    // template's order, and every valid token of the app's identity provider got 401 "The API key is not valid".
    [Theory]
    [InlineData("after")]
    [InlineData("before")]
    public async Task AuthorizeController_InTheTemplatesOrder_ServesAppTokensAndApiKeys(string placement)
    {
        using var app = await apps.WebApi.StartAsync(apps.IdpArgument(), "--AiEdgePlacement=" + placement);

        using var token = new HttpRequestMessage(HttpMethod.Get, "/weatherforecast");
        token.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apps.Idp.Token(ConsumerApps.Audience));
        using var byToken = await app.Client.SendAsync(token);
        using var key = new HttpRequestMessage(HttpMethod.Get, "/weatherforecast");
        key.Headers.Add("X-API-Key", ConsumerApps.ApiKey);
        using var byKey = await app.Client.SendAsync(key);
        using var anonymous = await app.Client.GetAsync("/weatherforecast");

        Assert.True(HttpStatusCode.OK == byToken.StatusCode, $"{byToken.StatusCode}{Environment.NewLine}{app.Output}");
        Assert.Equal(HttpStatusCode.OK, byKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", string.Join(", ", anonymous.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task RoutingAndAuthorizationBeforeUseAiEdge_FailsAtStartup_SayingWhatToMove()
    {
        var (exitCode, output) = await apps.WebApi.RunToExitAsync(apps.IdpArgument(), "--AiEdgePlacement=routing-first");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Move app.UseAuthorization() after app.UseAiEdge()", output, StringComparison.Ordinal);
    }
}
