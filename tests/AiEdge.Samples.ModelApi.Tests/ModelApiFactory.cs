using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
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

    /// <summary>Serves the sample on Kestrel over loopback and returns its base address.</summary>
    public Uri StartKestrel()
    {
        UseKestrel(0);
        StartServer();
        return ClientOptions.BaseAddress;
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
