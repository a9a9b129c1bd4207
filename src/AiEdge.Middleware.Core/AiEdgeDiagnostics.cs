using System.Diagnostics;

namespace AiEdge.Middleware;

/// <summary>
/// The names under which every AiEdge concern reports: one <see cref="System.Diagnostics.Metrics.Meter"/> and one
/// <see cref="System.Diagnostics.ActivitySource"/>, and the tag names they use.
/// </summary>
public static class AiEdgeDiagnostics
{
    /// <summary>The name of the suite's meter.</summary>
    public const string MeterName = "AiEdge.Middleware";

    /// <summary>The name of the suite's activity source.</summary>
    public const string ActivitySourceName = "AiEdge.Middleware";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName, typeof(AiEdgeDiagnostics).Assembly.GetName().Version?.ToString());

    /// <summary>Tag names used on measurements and on the request's activity. Values are bounded: never a raw IP or key.</summary>
    public static class Tags
    {
        /// <summary>The rate-limit tier name.</summary>
        public const string Tier = "aiedge.ratelimit.tier";

        /// <summary>The rate-limit decision: <c>admitted</c>, <c>delayed</c>, <c>rejected</c> or <c>dry_run</c>.</summary>
        public const string RateLimitDecision = "aiedge.ratelimit.decision";

        /// <summary>The cache status: <c>hit</c>, <c>miss</c>, <c>bypass</c>, <c>stale</c>, <c>revalidated</c>.</summary>
        public const string CacheStatus = "aiedge.cache.status";

        /// <summary>The Idempotency-Key outcome: <c>first</c>, <c>replayed</c>, <c>conflict</c>, <c>mismatch</c>, <c>invalid</c>, <c>missing</c>.</summary>
        public const string IdempotencyOutcome = "aiedge.idempotency.outcome";

        /// <summary>The circuit breaker (model backend) name.</summary>
        public const string Breaker = "aiedge.breaker.name";

        /// <summary>The circuit breaker state: <c>closed</c>, <c>open</c>, <c>half_open</c>, <c>isolated</c>.</summary>
        public const string BreakerState = "aiedge.breaker.state";

        /// <summary>The backend replica (as configured, never a client value).</summary>
        public const string Replica = "aiedge.backend.replica";

        /// <summary>The outcome of a backend or Redis call: <c>success</c>, <c>error</c>, <c>timeout</c>, <c>rejected</c>, <c>cancelled</c>.</summary>
        public const string Outcome = "aiedge.outcome";

        /// <summary>The concern reporting a measurement, e.g. <c>ratelimit</c>, <c>cache</c>, <c>idempotency</c>, <c>breaker</c>.</summary>
        public const string Concern = "aiedge.concern";

        /// <summary>A bounded reason code, e.g. why authentication failed or a forwarded hop was not applied.</summary>
        public const string Reason = "aiedge.reason";

        /// <summary>A Redis command name.</summary>
        public const string Command = "db.operation.name";
    }
}
