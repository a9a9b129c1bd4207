using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// Runs a sample app as a black box in Production, with configuration overrides layered over its appsettings.json
/// and its logs sent only to the given provider. <see cref="WebApplicationFactory{TEntryPoint}.CreateClient()"/>
/// gives an in-memory client; <see cref="StartKestrel"/> serves the app on a free loopback port for real-socket tests.
/// </summary>
/// <typeparam name="TEntryPoint">The sample's <c>Program</c>.</typeparam>
public abstract class SampleAppFactory<TEntryPoint> : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    private readonly Dictionary<string, string?> _settings;
    private readonly ILoggerProvider? _logs;
    private bool _kestrel;

    /// <summary>Creates a factory whose app reads <paramref name="settings"/> last and logs to <paramref name="logs"/>.</summary>
    protected SampleAppFactory(IEnumerable<KeyValuePair<string, string?>>? settings, ILoggerProvider? logs)
    {
        _settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in settings ?? [])
        {
            _settings[setting.Key] = setting.Value;
        }

        _logs = logs;
    }

    /// <summary>Serves the app on Kestrel over loopback and returns its base address.</summary>
    public Uri StartKestrel()
    {
        // The port is chosen through the app's own Urls setting, before the host is built: WebApplicationFactory's
        // UseKestrel(port) rewrites the server addresses after Build, which races the app's own app.Run() starting
        // Kestrel on the entry point's thread ("Addresses cannot be modified after the server has started").
        _settings["Urls"] = "http://127.0.0.1:0";
        _kestrel = true;
        UseKestrel();
        StartServer();
        foreach (var address in Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses)
        {
            return new Uri(address.EndsWith('/') ? address : address + "/");
        }

        throw new InvalidOperationException("Kestrel started without an address.");
    }

    /// <inheritdoc />
    protected override IHost CreateHost(IHostBuilder builder)
    {
        if (!_kestrel)
        {
            return base.CreateHost(builder);
        }

        var host = builder.Build();
        host.Start();
        return host;
    }

    /// <inheritdoc />
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.ConfigureLogging(logging =>
        {
            logging.ClearProviders();
            if (_logs is not null)
            {
                logging.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug);
            }
        });
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(_settings));
    }
}
