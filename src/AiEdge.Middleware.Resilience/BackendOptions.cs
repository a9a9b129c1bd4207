namespace AiEdge.Middleware.Resilience;

/// <summary>A pool of replicas of one model backend (the NGINX <c>upstream</c> block).</summary>
public sealed class BackendOptions
{
    /// <summary>Gets the replicas. Each has its own circuit breaker, so a failing replica is ejected alone.</summary>
    /// <value>At least one, at most 64. Configuration key: <c>AiEdge:Resilience:Backends:{name}:Replicas:{i}</c>.</value>
    public IList<BackendReplicaOptions> Replicas { get; } = new List<BackendReplicaOptions>();

    /// <summary>Gets or sets how a replica is chosen among the available ones.</summary>
    /// <value>Defaults to <see cref="BackendSelection.LeastOutstanding"/>. Configuration key: <c>...:Selection</c>.</value>
    public BackendSelection Selection { get; set; } = BackendSelection.LeastOutstanding;

    /// <summary>
    /// Gets or sets the name of the entry of <see cref="ResilienceOptions.Breakers"/> whose settings every replica's
    /// breaker uses. When <see langword="null"/>, the entry with the backend's own name is used if there is one, else
    /// the defaults.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>. Configuration key: <c>...:Breaker</c>.</value>
    public string? Breaker { get; set; }

    /// <summary>
    /// Gets or sets the path, relative to each replica's URL, probed actively (GET, healthy on 2xx), e.g.
    /// <c>/health</c> for vLLM. When neither this nor a replica's <see cref="BackendReplicaOptions.HealthUrl"/> is
    /// set, replicas are only checked passively (through their breakers).
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (no active probes). Configuration key: <c>...:HealthPath</c>.</value>
    public string? HealthPath { get; set; }

    /// <summary>Gets or sets the interval between two active probes of each replica (NGINX <c>check interval</c>).</summary>
    /// <value>Defaults to 5 seconds; at least 100 ms. Configuration key: <c>...:ProbeInterval</c>.</value>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the timeout of one active probe.</summary>
    /// <value>Defaults to 2 seconds; at least 10 ms. Configuration key: <c>...:ProbeTimeout</c>.</value>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how many consecutive failed probes take a replica out of rotation (NGINX <c>fall</c>).</summary>
    /// <value>Defaults to <c>3</c>; at least 1. Configuration key: <c>...:UnhealthyThreshold</c>.</value>
    public int UnhealthyThreshold { get; set; } = 3;

    /// <summary>
    /// Gets or sets how many consecutive successful probes bring a replica back (NGINX <c>rise</c>). A successful
    /// probe also closes the replica's open breaker.
    /// </summary>
    /// <value>Defaults to <c>2</c>; at least 1. Configuration key: <c>...:HealthyThreshold</c>.</value>
    public int HealthyThreshold { get; set; } = 2;
}
