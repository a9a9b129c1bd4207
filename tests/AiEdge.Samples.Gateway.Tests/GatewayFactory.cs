using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Logging;

namespace AiEdge.Samples.Gateway.Tests;

/// <summary>
/// Runs the gateway sample on Kestrel over loopback in front of the given fake replicas: its appsettings.json
/// applies, with the replica URLs (all three <c>vllm</c> entries and the <c>qdrant</c> one) pointed at the fakes and
/// the rate limits raised so the tests measure forwarding, not limiting.
/// </summary>
public sealed class GatewayFactory : SampleAppFactory<Program>
{
    /// <summary>The demo key of <c>team-a</c> (plan pro, scopes generate and vectors) from the sample's appsettings.json.</summary>
    public const string TeamAKey = "gw-demo-team-a-key";

    /// <summary>The demo key of <c>team-b</c> (plan free, scope generate only).</summary>
    public const string TeamBKey = "gw-demo-team-b-key";

    /// <summary>Creates a gateway in front of three vLLM replicas and one Qdrant; <paramref name="logs"/> receives what it logs.</summary>
    public GatewayFactory(IReadOnlyList<Uri> vllm, Uri qdrant, IDictionary<string, string?>? settings = null, ILoggerProvider? logs = null)
        : base(Settings(vllm, qdrant, settings), logs)
    {
    }

    private static Dictionary<string, string?> Settings(IReadOnlyList<Uri> vllm, Uri qdrant, IDictionary<string, string?>? settings)
    {
        if (vllm.Count != 3)
        {
            throw new ArgumentException("The sample's appsettings.json lists three vllm replicas.", nameof(vllm));
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
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
            values["AiEdge:Resilience:Backends:vllm:Replicas:" + i + ":Url"] = vllm[i].ToString();
            values["AiEdge:Resilience:Backends:vllm:Replicas:" + i + ":Weight"] = "1";
        }

        foreach (var setting in settings ?? new Dictionary<string, string?>())
        {
            values[setting.Key] = setting.Value;
        }

        return values;
    }
}
