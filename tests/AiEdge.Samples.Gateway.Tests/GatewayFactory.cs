using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Logging;

namespace AiEdge.Samples.Gateway.Tests;

/// <summary>
/// Runs the gateway sample on Kestrel over loopback in front of the given fake servers: its appsettings.json
/// applies, with the YARP destinations pointed at the fakes (<c>vllm</c> destinations <c>gpu-0</c>, <c>gpu-1</c>, ...
/// with weight 1 unless <paramref name="weights"/> says otherwise; <c>qdrant-0</c>) and the rate limits raised so the
/// tests measure forwarding, not limiting.
/// </summary>
public sealed class GatewayFactory : SampleAppFactory<Program>
{
    /// <summary>The demo key of <c>team-a</c> (plan pro, scopes generate and vectors) from the sample's appsettings.json.</summary>
    public const string TeamAKey = "gw-demo-team-a-key";

    /// <summary>The demo key of <c>team-b</c> (plan free, scope generate only).</summary>
    public const string TeamBKey = "gw-demo-team-b-key";

    /// <summary>Creates a gateway in front of vLLM servers (at least the sample's two) and one Qdrant; <paramref name="logs"/> receives what it logs.</summary>
    public GatewayFactory(IReadOnlyList<Uri> vllm, Uri qdrant, IDictionary<string, string?>? settings = null, ILoggerProvider? logs = null, IReadOnlyList<int>? weights = null)
        : base(Settings(vllm, qdrant, settings, weights), logs)
    {
    }

    private static Dictionary<string, string?> Settings(IReadOnlyList<Uri> vllm, Uri qdrant, IDictionary<string, string?>? settings, IReadOnlyList<int>? weights)
    {
        if (vllm.Count < 2)
        {
            throw new ArgumentException("The sample's appsettings.json lists two vllm destinations.", nameof(vllm));
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["ReverseProxy:Clusters:qdrant:Destinations:qdrant-0:Address"] = qdrant.ToString(),
            ["AiEdge:RateLimiting:Tiers:api:Rate"] = "1000000r/s",
            ["AiEdge:RateLimiting:Tiers:api:Burst"] = "1000000",
            ["AiEdge:RateLimiting:Tiers:generate:Rate"] = "1000000r/s",
            ["AiEdge:RateLimiting:Tiers:generate:Burst"] = "1000000",
            ["AiEdge:RateLimiting:Tiers:generate:Plans:pro:Rate"] = "1000000r/s",
            ["AiEdge:RateLimiting:Tiers:generate:Plans:pro:Burst"] = "1000000",

            // Load tests send thousands of generations a minute: the sample's token budget must never be what answers.
            ["AiEdge:RateLimiting:Tiers:generate:TokenBudget:Tokens"] = "1000000000",
            ["AiEdge:RateLimiting:Tiers:vectors:Rate"] = "1000000r/s",
            ["AiEdge:RateLimiting:Tiers:vectors:Burst"] = "1000000",
        };
        for (var i = 0; i < vllm.Count; i++)
        {
            values["ReverseProxy:Clusters:vllm:Destinations:gpu-" + i + ":Address"] = vllm[i].ToString();
            values["ReverseProxy:Clusters:vllm:Destinations:gpu-" + i + ":Metadata:Weight"] = (weights is null ? 1 : weights[i]).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var setting in settings ?? new Dictionary<string, string?>())
        {
            values[setting.Key] = setting.Value;
        }

        return values;
    }
}
