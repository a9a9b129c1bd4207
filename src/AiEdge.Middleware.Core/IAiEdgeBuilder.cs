using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware;

/// <summary>
/// The builder returned by <c>AddAiEdge()</c>. Every AiEdge package adds its concern through an extension
/// method on this interface (<c>edge.AddRateLimiting(...)</c>); each registration is idempotent.
/// </summary>
public interface IAiEdgeBuilder
{
    /// <summary>Gets the application's service collection.</summary>
    IServiceCollection Services { get; }
}
