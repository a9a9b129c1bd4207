using System.Net;
using AiEdge.Middleware;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// A real ASP.NET Core host for integration tests: in memory through TestServer, or on Kestrel over loopback
/// (streaming, browsers, load) on a free port.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    private TestApp(WebApplication app, HttpClient client, Uri baseAddress)
    {
        App = app;
        Client = client;
        BaseAddress = baseAddress;
    }

    /// <summary>Gets the running application.</summary>
    public WebApplication App { get; }

    /// <summary>Gets a client bound to the application.</summary>
    public HttpClient Client { get; }

    /// <summary>Gets the application's base address.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Gets the application's services.</summary>
    public IServiceProvider Services => App.Services;

    /// <summary>Starts an in-memory TestServer host.</summary>
    /// <param name="configureServices">Registers services (typically <c>AddAiEdgeCore(...)</c>).</param>
    /// <param name="configureApp">Builds the pipeline and maps endpoints (typically <c>UseAiEdge()</c> then <c>Map*</c>).</param>
    /// <param name="configuration">In-memory configuration values, e.g. <c>["AiEdge:RateLimiting:Tiers:a:Rate"] = "1r/s"</c>.</param>
    public static Task<TestApp> StartAsync(
        Action<WebApplicationBuilder> configureServices,
        Action<WebApplication> configureApp,
        IDictionary<string, string?>? configuration = null)
        => StartCoreAsync(configureServices, configureApp, configuration, kestrel: false);

    /// <summary>Starts a Kestrel host on a free loopback port.</summary>
    /// <param name="configureServices">Registers services.</param>
    /// <param name="configureApp">Builds the pipeline and maps endpoints.</param>
    /// <param name="configuration">In-memory configuration values.</param>
    public static Task<TestApp> StartKestrelAsync(
        Action<WebApplicationBuilder> configureServices,
        Action<WebApplication> configureApp,
        IDictionary<string, string?>? configuration = null)
        => StartCoreAsync(configureServices, configureApp, configuration, kestrel: true);

    /// <summary>
    /// Starts a host with <c>AddAiEdgeCore(edge)</c> and <c>UseAiEdge()</c>, then <paramref name="map"/>; the
    /// <paramref name="options"/> add configuration, a clock, registrations, middleware ahead of the edge or Kestrel.
    /// </summary>
    /// <param name="edge">Adds the concerns under test to the AiEdge builder.</param>
    /// <param name="map">Maps endpoints (runs after <c>UseAiEdge()</c>).</param>
    /// <param name="options">What the host adds around the edge; <see langword="null"/> for a plain TestServer host.</param>
    public static Task<TestApp> StartEdgeAsync(Action<IAiEdgeBuilder> edge, Action<WebApplication> map, TestAppOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentNullException.ThrowIfNull(map);
        options ??= new TestAppOptions();

        void ConfigureServices(WebApplicationBuilder builder)
        {
            if (options.Time is not null)
            {
                builder.Services.AddSingleton(options.Time);
            }

            options.Services?.Invoke(builder);
            builder.Services.AddAiEdgeCore(edge);
        }

        void ConfigureApp(WebApplication app)
        {
            options.Before?.Invoke(app);
            app.UseAiEdge();
            map(app);
        }

        return StartCoreAsync(ConfigureServices, ConfigureApp, options.Configuration, options.Kestrel);
    }

    private static async Task<TestApp> StartCoreAsync(
        Action<WebApplicationBuilder> configureServices,
        Action<WebApplication> configureApp,
        IDictionary<string, string?>? configuration,
        bool kestrel)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        if (kestrel)
        {
            builder.WebHost.UseKestrel(options =>
            {
                options.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1AndHttp2);
                options.AddServerHeader = true;
            });
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        configureServices(builder);
        var app = builder.Build();
        configureApp(app);
        await app.StartAsync();

        if (kestrel)
        {
            var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var baseAddress = new Uri(address);
            var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = baseAddress };
            return new TestApp(app, client, baseAddress);
        }

        var server = app.GetTestServer();
        return new TestApp(app, server.CreateClient(), server.BaseAddress);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
