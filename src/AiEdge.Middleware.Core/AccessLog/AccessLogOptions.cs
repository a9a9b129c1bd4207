namespace AiEdge.Middleware;

/// <summary>Options of the structured access log, bound from <c>AiEdge:AccessLog</c>.</summary>
public sealed class AccessLogOptions
{
    /// <summary>The logger category of access-log events.</summary>
    public const string Category = "AiEdge.Middleware.AccessLog";

    /// <summary>Gets or sets whether one access-log event is written per request.</summary>
    /// <value>Defaults to <see langword="true"/> once <c>AddAccessLog()</c> is called. Configuration key: <c>AiEdge:AccessLog:Enabled</c>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets request paths (exact, case-insensitive, e.g. <c>/healthz</c>) that are not logged, like an NGINX
    /// <c>access_log off;</c> location. Decisions on them are still measured.
    /// </summary>
    /// <value>Empty by default. Configuration key: <c>AiEdge:AccessLog:ExcludedPaths</c> (an array).</value>
    public List<string> ExcludedPaths { get; set; } = [];
}
