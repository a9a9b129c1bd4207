namespace AiEdge.Middleware.Resilience;

/// <summary>One replica of a backend pool (an NGINX <c>server</c> line of an <c>upstream</c>).</summary>
public sealed class BackendReplicaOptions
{
    /// <summary>
    /// Gets or sets the replica's base URL, e.g. <c>http://10.0.0.5:8000/v1</c>. A request for <c>chat/completions</c>
    /// goes to <c>http://10.0.0.5:8000/v1/chat/completions</c>.
    /// </summary>
    /// <value>Required: an absolute <c>http</c> or <c>https</c> URL. Configuration key: <c>...:Replicas:{i}:Url</c>.</value>
    public string? Url { get; set; }

    /// <summary>Gets or sets the replica's relative capacity (NGINX <c>weight</c>): a replica of weight 3 gets three times the load of one of weight 1.</summary>
    /// <value>Defaults to <c>1</c>; from 1 to 1000. Configuration key: <c>...:Replicas:{i}:Weight</c>.</value>
    public int Weight { get; set; } = 1;

    /// <summary>Gets or sets the name under which the replica is logged, measured and reported by <c>/readyz</c>.</summary>
    /// <value>Defaults to the URL's <c>host:port</c>. Configuration key: <c>...:Replicas:{i}:Name</c>.</value>
    public string? Name { get; set; }

    /// <summary>Gets or sets an absolute URL probed actively for this replica, overriding <see cref="BackendOptions.HealthPath"/>.</summary>
    /// <value>Defaults to <see langword="null"/>. Configuration key: <c>...:Replicas:{i}:HealthUrl</c>.</value>
    public string? HealthUrl { get; set; }
}
