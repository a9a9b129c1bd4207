namespace AiEdge.Middleware.Health;

/// <summary>The liveness and readiness endpoints, bound from the <c>AiEdge:Health</c> configuration section.</summary>
public sealed class EdgeHealthOptions
{
    /// <summary>
    /// Gets or sets whether <c>UseAiEdge()</c> maps the liveness and readiness endpoints itself. Set it to
    /// <see langword="false"/> to map them where the application chooses with <c>app.MapAiEdgeHealth()</c> (on a
    /// route group, with <c>RequireHost</c>, inside <c>UseEndpoints</c>), or to leave the paths to the application's
    /// own endpoints and serve no AiEdge probe at all.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>. Configuration key: <c>AiEdge:Health:MapEndpoints</c>.</value>
    public bool MapEndpoints { get; set; } = true;

    /// <summary>Gets or sets the liveness path: 200 while the process runs, no checks run.</summary>
    /// <value>Defaults to <c>/healthz</c>; a literal path starting with '/'. Configuration key: <c>AiEdge:Health:LivenessPath</c>.</value>
    public string LivenessPath { get; set; } = "/healthz";

    /// <summary>
    /// Gets or sets the readiness path: every registered health check (Redis, circuit breakers, the application's)
    /// runs and the answer is JSON with the overall status and one entry per check.
    /// </summary>
    /// <value>Defaults to <c>/readyz</c>; a literal path starting with '/'. Configuration key: <c>AiEdge:Health:ReadinessPath</c>.</value>
    public string ReadinessPath { get; set; } = "/readyz";

    /// <summary>Gets or sets the readiness status code when every check is Healthy.</summary>
    /// <value>Defaults to <c>200</c>. Configuration key: <c>AiEdge:Health:HealthyStatusCode</c>.</value>
    public int HealthyStatusCode { get; set; } = 200;

    /// <summary>
    /// Gets or sets the readiness status code when the worst check is Degraded (e.g. one replica of a pool is out):
    /// still ready by default, so a load balancer keeps sending traffic.
    /// </summary>
    /// <value>Defaults to <c>200</c>. Configuration key: <c>AiEdge:Health:DegradedStatusCode</c>.</value>
    public int DegradedStatusCode { get; set; } = 200;

    /// <summary>Gets or sets the readiness status code when any check is Unhealthy (not ready).</summary>
    /// <value>Defaults to <c>503</c>. Configuration key: <c>AiEdge:Health:UnhealthyStatusCode</c>.</value>
    public int UnhealthyStatusCode { get; set; } = 503;

    /// <summary>
    /// Gets or sets how long a readiness result is reused. Probes arriving meanwhile (every second from every
    /// kubelet and load balancer) share one run of the checks; probes arriving while checks run wait for that run.
    /// <see cref="TimeSpan.Zero"/> runs the checks for every probe that does not overlap a running one.
    /// </summary>
    /// <value>Defaults to 1 second; from 0 to 1 minute. Configuration key: <c>AiEdge:Health:CacheDuration</c>.</value>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets the tags a check must carry to count for readiness; empty means every registered check counts.
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:Health:ReadinessTags</c>.</value>
    public IList<string> ReadinessTags { get; } = new List<string>();
}
