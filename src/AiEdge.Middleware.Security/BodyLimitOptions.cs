namespace AiEdge.Middleware.Security;

/// <summary>Request body limits (NGINX's <c>client_max_body_size</c>), bound from <c>AiEdge:BodyLimits</c>.</summary>
public sealed class BodyLimitOptions
{
    /// <summary>
    /// Gets or sets the limit of endpoints without their own (<c>.WithBodyLimit(...)</c>, <see cref="BodyLimitAttribute"/>
    /// or ASP.NET Core's <c>[RequestSizeLimit]</c>), written as NGINX writes sizes: <c>10m</c>, <c>512k</c>, <c>1g</c>,
    /// or bytes; <c>0</c> means no limit.
    /// </summary>
    /// <value>Defaults to <c>10m</c> (10 MiB). Key: <c>AiEdge:BodyLimits:Default</c>.</value>
    public string Default { get; set; } = "10m";
}
