using AiEdge.Middleware.Resilience;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiEdge.Middleware.ReverseProxy;

/// <summary>What AiEdge adds to a YARP reverse proxy, bound from <c>AiEdge:ReverseProxy</c>.</summary>
public sealed class AiEdgeReverseProxyOptions
{
    /// <summary>
    /// Gets the circuit breaker settings per YARP cluster id. Every destination of a cluster gets its own breaker
    /// with these settings (or the defaults of <see cref="BreakerOptions"/> when the cluster is not listed). Only
    /// <see cref="BreakerOptions.FailureRatio"/>, <see cref="BreakerOptions.MinimumThroughput"/>,
    /// <see cref="BreakerOptions.SamplingDuration"/> and <see cref="BreakerOptions.BreakDuration"/> apply: YARP's
    /// <c>HttpRequest:ActivityTimeout</c> bounds the calls.
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:ReverseProxy:Breakers:{clusterId}</c>.</value>
    public IDictionary<string, BreakerOptions> Breakers { get; } = new Dictionary<string, BreakerOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets the response headers of a backend that are relayed although they are dropped by default
    /// (<c>Set-Cookie</c>, <c>Server</c>, <c>X-Powered-By</c> and those starting with one of
    /// <see cref="InternalHeaderPrefixes"/>).
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:ReverseProxy:AllowedResponseHeaders</c>.</value>
    public IList<string> AllowedResponseHeaders { get; } = [];

    /// <summary>
    /// Gets the request headers never forwarded to a backend: the caller's credentials, which the edge consumed (the
    /// backend trusts the gateway, not the caller's key). Clear the list to forward them.
    /// </summary>
    /// <value><c>Authorization</c>, <c>X-API-Key</c> and <c>Cookie</c> by default. Configuration key: <c>AiEdge:ReverseProxy:RemovedRequestHeaders</c>.</value>
    public IList<string> RemovedRequestHeaders { get; } = ["Authorization", "X-API-Key", "Cookie"];

    /// <summary>Gets the prefixes of a backend's internal response headers, never relayed unless allowed.</summary>
    /// <value><c>X-Internal-</c> by default. Configuration key: <c>AiEdge:ReverseProxy:InternalHeaderPrefixes</c>.</value>
    public IList<string> InternalHeaderPrefixes { get; } = ["X-Internal-"];

    /// <summary>
    /// Gets or sets how many times a call that failed before any byte of an answer was relayed (connection refused or
    /// reset, no response head within the activity timeout) is sent again, each time to another available destination.
    /// Only calls that cannot double-spend are retried: <c>GET</c>, <c>HEAD</c> and <c>OPTIONS</c>, and any call
    /// carrying an <c>Idempotency-Key</c> header (its body is buffered so it can be sent again). A backend's answer,
    /// even a 5xx, is never retried.
    /// </summary>
    /// <value>Defaults to <c>1</c>; from 0 to 5. Configuration key: <c>AiEdge:ReverseProxy:MaxRetryAttempts</c>.</value>
    public int MaxRetryAttempts { get; set; } = 1;

    /// <summary>
    /// Gets or sets how often a replica reads its clusters' destination cool-downs from the shared
    /// <see cref="IBackendCooldownStore"/> (a backend's 429 or 503 with <c>Retry-After</c>, seen by another replica of
    /// the gateway): at most once per interval and cluster, on the first call after it. A cool-down seen by this
    /// replica applies here at once, whatever the interval. <see cref="TimeSpan.Zero"/> reads before every call.
    /// </summary>
    /// <value>Defaults to 1 second; from 0 to 1 minute. Configuration key: <c>AiEdge:ReverseProxy:CooldownRefreshInterval</c>.</value>
    public TimeSpan CooldownRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets how streamed answers are metered for token budgets and bounded in time.</summary>
    /// <value>Usage requested, timeouts off by default. Configuration key: <c>AiEdge:ReverseProxy:Streams</c>.</value>
    public ProxyStreamOptions Streams { get; } = new();

    /// <summary>Gets or sets the readiness status reported while a cluster has no available destination.</summary>
    /// <value>Defaults to <see cref="HealthStatus.Unhealthy"/>. Configuration key: <c>AiEdge:ReverseProxy:UnavailableClusterStatus</c>.</value>
    public HealthStatus UnavailableClusterStatus { get; set; } = HealthStatus.Unhealthy;
}
