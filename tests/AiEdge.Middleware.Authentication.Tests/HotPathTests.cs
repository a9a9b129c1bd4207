using AiEdge.Middleware.Authentication.Internal;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Authentication.Tests;

public sealed class HotPathTests
{
    [Fact]
    public void AnonymousRequestWithoutCredentials_AllocatesNothing()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(TestKeys.Configuration()).Build());
        services.AddAiEdgeCore(static edge => edge.AddEdgeAuthentication());
        using var provider = services.BuildServiceProvider();
        var app = new ApplicationBuilder(provider);
        app.UseMiddleware<EdgeAuthenticationMiddleware>();
        var reached = 0;
        app.Run(_ =>
        {
            reached++;
            return Task.CompletedTask;
        });
        var pipeline = app.Build();
        var context = new DefaultHttpContext { RequestServices = provider };
        context.Request.Headers.Accept = "application/json";
        context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(new object()), "open"));
        for (var i = 0; i < 100; i++)
        {
            Assert.True(pipeline(context).IsCompletedSuccessfully);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var synchronous = true;
        for (var i = 0; i < 1000; i++)
        {
            synchronous &= pipeline(context).IsCompletedSuccessfully;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(synchronous);
        // Bytes per call, rounded down: a one-off allocation of the runtime itself (tiered JIT) cannot fail it,
        // while any allocation per call (24 bytes at the least) does.
        Assert.Equal(0, allocated / 1000);
        Assert.Equal(1100, reached);
    }

    [Fact]
    public async Task AppWithItsOwnScheme_KeepsItsDefault()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AuthenticationHandlerStub>("Cookies", null);
        services.AddAiEdgeCore(static edge => edge.AddEdgeAuthentication());
        await using var provider = services.BuildServiceProvider();

        // As ASP.NET Core infers it without AiEdge's schemes: the app's only scheme is the default.
        var schemes = provider.GetRequiredService<IAuthenticationSchemeProvider>();

        Assert.Equal("Cookies", (await schemes.GetDefaultAuthenticateSchemeAsync())?.Name);
        Assert.Equal("Cookies", (await schemes.GetDefaultChallengeSchemeAsync())?.Name);
    }

    [Fact]
    public async Task AppWithTwoSchemesAndNoDefault_StillHasNoDefault()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, AuthenticationHandlerStub>("Cookies", null)
            .AddScheme<AuthenticationSchemeOptions, AuthenticationHandlerStub>("Other", null);
        services.AddAiEdgeCore(static edge => edge.AddEdgeAuthentication());
        await using var provider = services.BuildServiceProvider();

        var schemes = provider.GetRequiredService<IAuthenticationSchemeProvider>();

        Assert.Null(await schemes.GetDefaultAuthenticateSchemeAsync());
    }

    [Fact]
    public async Task AppWithAnExplicitDefault_KeepsIt()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddAuthentication("Other")
            .AddScheme<AuthenticationSchemeOptions, AuthenticationHandlerStub>("Cookies", null)
            .AddScheme<AuthenticationSchemeOptions, AuthenticationHandlerStub>("Other", null);
        services.AddAiEdgeCore(static edge => edge.AddEdgeAuthentication());
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<AuthenticationOptions>>().Value;

        Assert.Equal("Other", options.DefaultScheme);
    }

    [Fact]
    public async Task AppWithoutSchemes_GetsAiEdgeAsDefault()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddAiEdgeCore(static edge => edge.AddEdgeAuthentication());
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<AuthenticationOptions>>().Value;

        Assert.Equal(EdgeAuthenticationDefaults.AuthenticationScheme, options.DefaultScheme);
    }

    private sealed class AuthenticationHandlerStub(IOptionsMonitor<AuthenticationSchemeOptions> options, Microsoft.Extensions.Logging.ILoggerFactory logger, System.Text.Encodings.Web.UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
    }
}

public sealed class UnregisteredRequirementTests
{
    [Fact]
    public async Task RequireScopes_WithoutAddEdgeAuthentication_RefusesToBuildTheEndpoint()
    {
        await using var app = await AiEdge.Middleware.Testing.TestApp.StartAsync(
            static builder => builder.Services.AddAiEdgeCore(),
            static app =>
            {
                app.UseAiEdge();
                app.MapGet("/predict", static () => "open").RequireScopes("predict");
            });

        var error = Assert.Throws<InvalidOperationException>(() => app.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints);
        using var response = await app.Client.GetAsync("/predict").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Contains("AddEdgeAuthentication()", error.Message, StringComparison.Ordinal);
        Assert.NotEqual(System.Net.HttpStatusCode.OK, response.StatusCode);
    }
}
