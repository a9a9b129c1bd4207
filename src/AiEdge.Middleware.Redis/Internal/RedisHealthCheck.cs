using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Redis.Internal;

/// <summary>
/// The <c>redis</c> readiness entry: healthy when Redis answers PING (or is not configured); while it is
/// unreachable, degraded under <see cref="RedisFailureMode.FailOpen"/> (the replica still serves, with local
/// limits) and unhealthy under <see cref="RedisFailureMode.FailClosed"/> (the replica refuses shared-state work).
/// A topology error seen recently (<c>MOVED</c>, <c>CROSSSLOT</c>, <c>CLUSTERDOWN</c>, <c>READONLY</c>) makes it
/// degraded even while PING answers: some decisions were taken locally.
/// </summary>
internal sealed class RedisHealthCheck(IRedisConnection connection, IOptions<RedisOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        switch (connection.State)
        {
            case RedisConnectionState.NotConfigured:
                return HealthCheckResult.Healthy("Redis is not configured: state is kept in memory, per replica.");
            case RedisConnectionState.Connected:
                try
                {
                    var latency = await connection.RunAsync(connection.Database.PingAsync(), "PING").WaitAsync(cancellationToken).ConfigureAwait(false);
                    var data = new Dictionary<string, object> { ["latency_ms"] = latency.TotalMilliseconds };
                    if (connection.RecentTopologyError is { } topology)
                    {
                        return HealthCheckResult.Degraded("Redis answers, but reported a topology error recently (" + topology + "); those decisions were taken locally.", data: data);
                    }

                    return HealthCheckResult.Healthy("Redis answers.", data);
                }
                catch (RedisConnectionException ex)
                {
                    return Unavailable(ex.Message);
                }

            default:
                return Unavailable("Redis is unreachable: " + (connection.LastError ?? "connecting"));
        }
    }

    private HealthCheckResult Unavailable(string description)
        => options.Value.FailureMode == RedisFailureMode.FailClosed
            ? HealthCheckResult.Unhealthy(description + " Shared-state requests are refused (FailClosed).")
            : HealthCheckResult.Degraded(description + " Decisions are taken locally per replica (FailOpen).");
}
