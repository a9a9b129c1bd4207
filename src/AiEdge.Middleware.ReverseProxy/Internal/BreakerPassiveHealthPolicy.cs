using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// YARP's passive health check policy <c>AiEdgeBreaker</c>: each proxied call is an outcome for its destination's
/// breaker. A failure is a transport error, a timeout (YARP's, or AiEdge's first-byte or idle timeout) or a 5xx from the backend; a caller that went away or sent a
/// broken body is nobody's failure and is not counted.
/// </summary>
internal sealed class BreakerPassiveHealthPolicy(DestinationBreakers breakers) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "AiEdgeBreaker";

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var error = context.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        if (error != ForwarderError.None && context.Features.Get<ProxyCallGuard>()?.Deadlines?.Expired is StreamTimeout.FirstByte or StreamTimeout.Idle)
        {
            // The destination kept the call waiting past the first-byte or idle timeout (which YARP sees as a cancel).
            breakers.Get(cluster, destination).Record(success: false);
            return;
        }

        if (IsCallersFault(error) || context.Features.Get<OutcomeRecorded>() is not null)
        {
            return;
        }

        // A backend's 5xx has become AiEdge's 502/503/504 by now: the status is still 5xx.
        breakers.Get(cluster, destination).Record(error == ForwarderError.None && context.Response.StatusCode < 500);
    }

    internal static bool IsCallersFault(ForwarderError error) => error is ForwarderError.RequestCanceled
        or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
        or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient
        or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled
        or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseClient;
}

/// <summary>
/// Marks a call whose failure was already counted: a backend's 5xx is counted before its problem answer is written,
/// so the next call of the same caller already sees the breaker's verdict.
/// </summary>
internal sealed class OutcomeRecorded
{
    public static readonly OutcomeRecorded Instance = new();
}
