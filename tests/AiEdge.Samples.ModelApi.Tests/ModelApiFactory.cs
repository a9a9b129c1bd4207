using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>
/// Runs the sample as a black box. <see cref="WebApplicationFactory{TEntryPoint}.CreateClient()"/> gives an
/// in-memory client; <see cref="StartKestrel"/> serves it on a free loopback port for real-socket tests.
/// Configuration overrides use the contract's keys, e.g. <c>["Sample:TokenDelayMs"] = "0"</c>; a logger provider, when
/// given, receives everything the sample logs.
/// </summary>
public sealed class ModelApiFactory(IDictionary<string, string?>? settings = null, ILoggerProvider? logs = null) : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings = new(settings ?? new Dictionary<string, string?>(), StringComparer.OrdinalIgnoreCase);
    private bool _kestrel;

    /// <summary>Serves the sample on Kestrel over loopback and returns its base address.</summary>
    public Uri StartKestrel()
    {
        // The port is chosen through the app's own Urls setting, before the host is built: WebApplicationFactory's
        // UseKestrel(port) rewrites the server addresses after Build, which races the sample's own app.Run() starting
        // Kestrel on the entry point's thread ("Addresses cannot be modified after the server has started").
        _settings["Urls"] = "http://127.0.0.1:0";
        _kestrel = true;
        UseKestrel();
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        foreach (var address in addresses)
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

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.ConfigureLogging(logging =>
        {
            logging.ClearProviders();
            if (logs is not null)
            {
                logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
            }
        });
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(_settings));
    }
}
