using System.Text.Encodings.Web;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static AiEdge.Middleware.Authentication.Tests.AuthTestHost;

namespace AiEdge.Middleware.Authentication.Tests;

/// <summary>
/// WebApplication adds ASP.NET Core's authentication middleware in front of every pipeline that has schemes. With
/// only the AiEdge schemes the AiEdge stage replaces it (one authentication per request, and none for requests
/// without credentials); with schemes of the application's own it stays.
/// </summary>
public sealed class AuthenticationPipelineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task OnlyEdgeSchemes_TheImplicitAuthenticationMiddlewareIsNotAdded()
    {
        await using var app = await StartAsync(customScheme: false);

        using var anonymous = await app.Client.GetAsync("/features").WaitAsync(Timeout);
        using var authenticated = await app.Client.SendAsync(Get("/features", apiKey: TestKeys.FreeKey)).WaitAsync(Timeout);

        // ASP.NET Core's middleware sets IAuthenticationFeature on every request it sees.
        Assert.Equal("original-path=no result=none user=anonymous", await anonymous.Content.ReadAsStringAsync());
        Assert.Equal("original-path=no result=succeeded user=free-app", await authenticated.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ApplicationSchemes_KeepTheImplicitAuthenticationMiddleware()
    {
        await using var app = await StartAsync(customScheme: true);

        using var anonymous = await app.Client.GetAsync("/features").WaitAsync(Timeout);
        using var authenticated = await app.Client.SendAsync(Get("/features", apiKey: TestKeys.FreeKey)).WaitAsync(Timeout);

        Assert.Equal("original-path=yes result=none user=anonymous", await anonymous.Content.ReadAsStringAsync());
        Assert.Equal("original-path=yes result=succeeded user=free-app", await authenticated.Content.ReadAsStringAsync());
    }

    private static Task<TestApp> StartAsync(bool customScheme) => TestApp.StartAsync(
        builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(TestKeys.Now));
            builder.Services.AddAiEdgeCore(edge => edge.AddEdgeAuthentication());
            if (customScheme)
            {
                builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, NoResultHandler>("custom", null);
            }
        },
        app =>
        {
            app.UseAiEdge();
            app.MapGet("/features", static (HttpContext context) =>
            {
                var originalPath = context.Features.Get<IAuthenticationFeature>() is null ? "no" : "yes";
                var result = context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult is { Succeeded: true } ? "succeeded" : "none";
                var user = context.Features.Get<IHttpAuthenticationFeature>()?.User?.Identity?.Name ?? context.GetCallerId() ?? "anonymous";
                return $"original-path={originalPath} result={result} user={user}";
            });
        },
        TestKeys.Configuration());

    private sealed class NoResultHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
    }
}
