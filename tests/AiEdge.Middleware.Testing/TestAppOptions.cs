using Microsoft.AspNetCore.Builder;

namespace AiEdge.Middleware.Testing;

/// <summary>What an AiEdge test host adds around the edge itself (see <see cref="TestApp.StartEdgeAsync"/>).</summary>
public sealed class TestAppOptions
{
    /// <summary>Gets the in-memory configuration values, e.g. <c>["AiEdge:RateLimiting:Tiers:a:Rate"] = "1r/s"</c>.</summary>
    public IDictionary<string, string?>? Configuration { get; init; }

    /// <summary>Gets the clock registered as the host's <see cref="TimeProvider"/> (typically a FakeTimeProvider).</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>Gets further registrations, made before <c>AddAiEdgeCore</c> (stores, loggers, startup filters).</summary>
    public Action<WebApplicationBuilder>? Services { get; init; }

    /// <summary>Gets middleware placed ahead of <c>UseAiEdge()</c> (a test identity, compression).</summary>
    public Action<WebApplication>? Before { get; init; }

    /// <summary>Gets a value indicating whether the host runs on Kestrel over loopback instead of TestServer.</summary>
    public bool Kestrel { get; init; }
}
