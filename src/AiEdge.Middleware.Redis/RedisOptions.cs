using System.Net.Security;

namespace AiEdge.Middleware.Redis;

/// <summary>
/// Settings of the shared Redis state, bound from <c>AiEdge:Redis</c>. When <see cref="Configuration"/> is
/// empty every concern keeps its state in memory, per replica.
/// </summary>
public sealed class RedisOptions
{
    /// <summary>
    /// Gets or sets the endpoint: <c>host:port[,password=...][,user=...][,ssl=true][,db=N]</c>.
    /// </summary>
    /// <value>Empty: Redis is not used. Port 6379 when omitted.</value>
    public string Configuration { get; set; } = string.Empty;

    /// <summary>Gets or sets how long one connection attempt (TCP, TLS, AUTH, SELECT) may take.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = RedisDefaults.ConnectTimeout;

    /// <summary>
    /// Gets or sets how long a command may wait for its reply. A reply that is late means the connection is
    /// broken: it is dropped, every waiting command fails over to the local decision, and a new connection is
    /// made in the background.
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
    /// A lone request is sent at once, so this adds no latency. Turn it off behind a Redis Cluster proxy, where one
    /// script call must stay within one hash slot.
    /// </summary>
    /// <value><see langword="true"/>.</value>
    public bool CoalesceRateLimitDecisions { get; set; } = true;

    /// <summary>
    /// Gets or sets a validator of the server certificate when <c>ssl=true</c> (e.g. to trust a private CA).
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
    public static readonly TimeSpan MinReconnectDelay = TimeSpan.FromMilliseconds(50);
    public const string KeyPrefix = "aiedge:";
    public const string ConfigurationSection = "AiEdge:Redis";
}
