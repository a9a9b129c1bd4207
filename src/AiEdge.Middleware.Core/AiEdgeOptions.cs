namespace AiEdge.Middleware;

/// <summary>Suite-wide options, bound from the <c>AiEdge</c> configuration section.</summary>
public sealed class AiEdgeOptions
{
    /// <summary>Gets or sets whether unhandled exceptions are answered with an RFC 9457 problem details body.</summary>
    /// <value>Defaults to <see langword="true"/>. Configuration key: <c>AiEdge:HandleExceptions</c>.</value>
    public bool HandleExceptions { get; set; } = true;

    /// <summary>
    /// Gets or sets whether error status codes produced without a body (a 404 from routing, a 405, a 413 from
    /// the server) are given an RFC 9457 problem details body.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>. Configuration key: <c>AiEdge:StatusCodeProblems</c>.</value>
    public bool StatusCodeProblems { get; set; } = true;
}
