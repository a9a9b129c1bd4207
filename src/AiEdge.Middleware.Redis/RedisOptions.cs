using System.Net.Security;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis;

/// <summary>
/// Settings of the shared Redis state, bound from <c>AiEdge:Redis</c>. When <see cref="Configuration"/> is
/// empty every concern keeps its state in memory, per replica.
/// </summary>
public sealed class RedisOptions
{
    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string of the connection the suite makes and owns, e.g.
    /// <c>redis1:6379,redis2:6379,password=...,ssl=true,abortConnect=false</c> or, for Sentinel,
    /// <c>sentinel1:26379,sentinel2:26379,serviceName=mymaster</c> (<see cref="ConfigurationOptions.Parse(string)"/> syntax).
    /// </summary>
    /// <value>
    /// Empty: the suite uses the app's registered <see cref="IConnectionMultiplexer"/> if there is one (or the keyed
    /// one <see cref="ConnectionServiceKey"/> names), and otherwise does not use Redis.
    /// </value>
    public string Configuration { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets the key of a keyed <see cref="IConnectionMultiplexer"/> service the app registered, for the suite
    /// to use instead of making its own. The suite never disposes a multiplexer it did not make.
    /// </summary>
    /// <value><see langword="null"/>: <see cref="Configuration"/>, else the app's unkeyed <see cref="IConnectionMultiplexer"/>.</value>
    public string? ConnectionServiceKey { get; set; }

    /// <summary>
    /// Gets or sets a last adjustment of the <see cref="ConfigurationOptions"/> the suite makes from
    /// <see cref="Configuration"/> (client certificates through <see cref="ConfigurationOptions.CertificateSelection"/>,
    /// a custom <see cref="ConfigurationOptions.SocketManager"/>, ...). Not used for an app's multiplexer.
    /// </summary>
    /// <value><see langword="null"/>.</value>
    public Action<ConfigurationOptions>? ConfigureConnection { get; set; }

    /// <summary>Gets or sets how long one connection attempt (TCP, TLS, AUTH, SELECT) may take, unless
    /// <see cref="Configuration"/> sets <c>connectTimeout</c>.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = RedisDefaults.ConnectTimeout;

    /// <summary>
    /// Gets or sets how long a command may wait for its reply. A reply that is late means Redis is not answering:
    /// the command follows <see cref="FailureMode"/>, and every request decides locally without trying Redis
    /// until a background <c>PING</c> answers again.
    /// </summary>
    /// <value>1 second.</value>
    public TimeSpan CommandTimeout { get; set; } = RedisDefaults.CommandTimeout;

    /// <summary>Gets or sets the longest pause between two reconnection attempts (the backoff doubles up to it).</summary>
    /// <value>5 seconds.</value>
    public TimeSpan MaxReconnectDelay { get; set; } = RedisDefaults.MaxReconnectDelay;

    /// <summary>Gets or sets what the Redis-backed concerns do while Redis cannot be reached.</summary>
    /// <value><see cref="RedisFailureMode.FailOpen"/>.</value>
    public RedisFailureMode FailureMode { get; set; } = RedisFailureMode.FailOpen;

    /// <summary>Gets or sets the prefix of every key the suite writes, so several apps can share one Redis.</summary>
    /// <value><c>aiedge:</c>.</value>
    public string KeyPrefix { get; set; } = RedisDefaults.KeyPrefix;

    /// <summary>
    /// Gets or sets whether rate-limit decisions of concurrent requests share script calls: decisions that arrive
    /// while one call is on its way go together in the next one, each still all-or-nothing and in arrival order.
    /// A lone request is sent at once, so this adds no latency. Every rate-limit key shares one hash slot, so this
    /// holds on a Redis Cluster too.
    /// </summary>
    /// <value><see langword="true"/>.</value>
    public bool CoalesceRateLimitDecisions { get; set; } = true;

    /// <summary>
    /// Gets or sets how often a replica records in Redis that it is live and learns how many replicas are (those seen
    /// within three intervals). While Redis is unreachable and decisions fall back to each replica (fail-open), a
    /// replica enforces its share of every shared rate limit: the rate and burst divided by that count (see
    /// <c>RateLimitRule.Share</c>), so the fleet's total stays near the shared limit instead of multiplying by the
    /// number of replicas. Only an app that adds rate limiting beats. <see cref="TimeSpan.Zero"/> turns this off: each replica then enforces the whole limit
    /// alone while Redis is unreachable.
    /// </summary>
    /// <value>5 seconds.</value>
    public TimeSpan ReplicaHeartbeatInterval { get; set; } = RedisDefaults.ReplicaHeartbeatInterval;

    /// <summary>
    /// Gets the settings of rate-limit leases (<c>AiEdge:Redis:RateLimitLeases</c>): off by default, so every decision
    /// is exact; on, a replica admits most requests of a <c>nodelay</c> tier from a share of the bucket it leased.
    /// </summary>
    /// <value>Leases off.</value>
    public RedisRateLimitLeaseOptions RateLimitLeases { get; } = new();

    /// <summary>
    /// Gets or sets whether the prediction cache keeps its shared entries in the <c>IDistributedCache</c> the app
    /// registered (for example <c>AddStackExchangeRedisCache</c>, or the one under <c>HybridCache</c>), when there is
    /// one, instead of in AiEdge's own keys. The cross-replica coalescing lock stays in AiEdge's keys either way. An
    /// in-process <c>IDistributedCache</c> (<c>AddDistributedMemoryCache</c>) is not shared between replicas: turn
    /// this off when that is what the app registered.
    /// </summary>
    /// <value><see langword="true"/>.</value>
    public bool UseAppDistributedCache { get; set; } = true;

    /// <summary>
    /// Gets or sets a validator of the server certificate when <c>ssl=true</c> (e.g. to trust a private CA), for
    /// the connection the suite makes.
    /// </summary>
    /// <value><see langword="null"/>: the platform's certificate validation.</value>
    public RemoteCertificateValidationCallback? RemoteCertificateValidation { get; set; }
}

/// <summary>The defaults of <see cref="RedisOptions"/>.</summary>
internal static class RedisDefaults
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan ReplicaHeartbeatInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MinReconnectDelay = TimeSpan.FromMilliseconds(50);
    public const string KeyPrefix = "aiedge:";
    public const string ConfigurationSection = "AiEdge:Redis";
}
