using System.Security.Cryptography;
using System.Text;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.ReverseProxy.Tests;

/// <summary>
/// A gateway on Kestrel over loopback: <c>AddAiEdge(...)</c> with API keys, rate limiting and streaming, then
/// <c>AddReverseProxy().LoadFromConfig(...).AddAiEdge()</c> and <c>MapAiEdgeReverseProxy()</c>, configured from
/// in-memory settings (YARP's <c>ReverseProxy</c> section and AiEdge's).
/// </summary>
public static class ProxyGateway
{
    /// <summary>An API key with the scope <c>vectors</c>.</summary>
    public const string VectorsKey = "rp-test-vectors-key";

    /// <summary>An API key without scopes.</summary>
    public const string PlainKey = "rp-test-plain-key";

    /// <summary>Starts a gateway with the given settings; <paramref name="logs"/> receives every log entry; <paramref name="time"/> replaces the clock.</summary>
    public static Task<TestApp> StartAsync(IDictionary<string, string?> settings, LogCapture? logs = null, TimeProvider? time = null)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["AiEdge:Authentication:ApiKeys:Keys:vectors:Hash"] = Hash(VectorsKey),
            ["AiEdge:Authentication:ApiKeys:Keys:vectors:Scopes:0"] = "vectors",
            ["AiEdge:Authentication:ApiKeys:Keys:plain:Hash"] = Hash(PlainKey),
            ["AiEdge:RateLimiting:Tiers:api:Rate"] = "1000r/s",
            ["AiEdge:RateLimiting:Tiers:api:Burst"] = "1000",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        return TestApp.StartKestrelAsync(
            builder =>
            {
                if (logs is not null)
                {
                    builder.Logging.AddProvider(logs);
                    builder.Logging.SetMinimumLevel(LogLevel.Debug);
                }

                if (time is not null)
                {
                    builder.Services.AddSingleton(time);
                }

                builder.Services.AddAiEdge(static edge => edge.AddEdgeAuthentication().AddRateLimiting().AddStreaming());
                builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddAiEdge();
            },
            static app =>
            {
                app.UseAiEdge();
                app.MapAiEdgeReverseProxy();
            },
            values);
    }

    /// <summary>The settings of one route <paramref name="routeId"/> matching <paramref name="path"/> to cluster <paramref name="cluster"/>.</summary>
    public static void Route(IDictionary<string, string?> settings, string routeId, string path, string cluster, params (string Key, string Value)[] metadata)
    {
        settings["ReverseProxy:Routes:" + routeId + ":ClusterId"] = cluster;
        settings["ReverseProxy:Routes:" + routeId + ":Match:Path"] = path;
        foreach (var (key, value) in metadata)
        {
            settings["ReverseProxy:Routes:" + routeId + ":Metadata:" + key] = value;
        }
    }

    /// <summary>The settings of cluster <paramref name="cluster"/> with the given destinations (<c>d0</c>, <c>d1</c>, ...).</summary>
    public static void Cluster(IDictionary<string, string?> settings, string cluster, params Uri[] destinations)
    {
        for (var i = 0; i < destinations.Length; i++)
        {
            settings["ReverseProxy:Clusters:" + cluster + ":Destinations:d" + i + ":Address"] = destinations[i].ToString();
        }
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
