namespace AiEdge.Middleware.OpenTelemetry;

/// <summary>
/// The names to subscribe to for AiEdge and for ASP.NET Core's own HTTP server telemetry, which stands in for the
/// <c>OpenTelemetry.Instrumentation.AspNetCore</c> package.
/// </summary>
public static class AiEdgeOpenTelemetry
{
    /// <summary>The AiEdge meter (<see cref="AiEdgeDiagnostics.MeterName"/>).</summary>
    public const string MeterName = AiEdgeDiagnostics.MeterName;

    /// <summary>The AiEdge activity source (<see cref="AiEdgeDiagnostics.ActivitySourceName"/>).</summary>
    public const string ActivitySourceName = AiEdgeDiagnostics.ActivitySourceName;

    /// <summary>
    /// ASP.NET Core's built-in meters: <c>http.server.request.duration</c> and <c>http.server.active_requests</c>
    /// (<c>Microsoft.AspNetCore.Hosting</c>), Kestrel connections, routing, rate limiting and diagnostics.
    /// </summary>
    public static readonly IReadOnlyList<string> AspNetCoreMeterNames =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
    ];

    /// <summary>ASP.NET Core's activity source, which starts the server span of every request.</summary>
    public const string AspNetCoreActivitySourceName = "Microsoft.AspNetCore";
}
