using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiEdge.Samples.Gateway.Tests;

/// <summary>
/// Runs the gateway sample on Kestrel over loopback in front of the given fake replicas: its appsettings.json
/// applies, with the replica URLs (all three <c>vllm</c> entries and the <c>qdrant</c> one) pointed at the fakes and
/// the rate limits raised so the tests measure forwarding, not limiting.
/// </summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    /// <summary>The demo key of <c>team-a</c> (plan pro, scopes generate and vectors) from the sample's appsettings.json.</summary>
    public const string TeamAKey = "gw-demo-team-a-key";

    /// <summary>The demo key of <c>team-b</c> (plan free, scope generate only).</summary>
    public const string TeamBKey = "gw-demo-team-b-key";

    private readonly Dictionary<string, string?> _settings;
    private readonly ILoggerProvider? _logs;
    private bool _kestrel;

    /// <summary>Creates a gateway in front of three vLLM replicas and one Qdrant; <paramref name="logs"/> receives what it logs.</summary>
    public GatewayFactory(IReadOnlyList<Uri> vllm, Uri qdrant, IDictionary<string, string?>? settings = null, ILoggerProvider? logs = null)
    {
        _logs = logs;
        if (vllm.Count != 3)
        {
            throw new ArgumentException("The sample's appsettings.json lists three vllm replicas.", nameof(vllm));
        }

        _settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["AiEdge:Resilience:Backends:qdrant:Replicas:0:Url"] = qdrant.ToString(),
            ["AiEdge:RateLimiting:Tiers:api:Rate"] = "1000r/s",
            ["AiEdge:RateLimiting:Tiers:api:Burst"] = "1000",
            ["AiEdge:RateLimiting:Tiers:generate:Rate"] = "1000r/s",
            ["AiEdge:RateLimiting:Tiers:generate:Burst"] = "1000",
            ["AiEdge:RateLimiting:Tiers:generate:Plans:pro:Rate"] = "1000r/s",
            ["AiEdge:RateLimiting:Tiers:generate:Plans:pro:Burst"] = "1000",
            ["AiEdge:RateLimiting:Tiers:vectors:Rate"] = "1000r/s",
            ["AiEdge:RateLimiting:Tiers:vectors:Burst"] = "1000",
        };
        for (var i = 0; i < vllm.Count; i++)
        {
            _settings["AiEdge:Resilience:Backends:vllm:Replicas:" + i + ":Url"] = vllm[i].ToString();
            _settings["AiEdge:Resilience:Backends:vllm:Replicas:" + i + ":Weight"] = "1";
        }

        foreach (var setting in settings ?? new Dictionary<string, string?>())
        {
            _settings[setting.Key] = setting.Value;
        }
    }

    /// <summary>Serves the gateway on Kestrel over loopback and returns its base address.</summary>
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
