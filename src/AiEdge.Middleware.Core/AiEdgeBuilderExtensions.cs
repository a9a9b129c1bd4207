using AiEdge.Middleware;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Builder;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Stage registration on the AiEdge builder, used by every AiEdge concern package.</summary>
public static class AiEdgeBuilderExtensions
{
    /// <summary>
    /// Registers middleware <typeparamref name="TMiddleware"/> at <paramref name="stage"/>. Registering the same
    /// middleware type again has no effect, so a concern's <c>Add*</c> method may be called any number of times.
    /// </summary>
    /// <typeparam name="TMiddleware">A convention-based middleware class.</typeparam>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="stage">The place of the middleware in the pipeline.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddStage<TMiddleware>(this IAiEdgeBuilder edge, AiEdgeStage stage)
        where TMiddleware : class
    {
        ArgumentNullException.ThrowIfNull(edge);
        return edge.AddStage(stage, typeof(TMiddleware).FullName!, static app => app.UseMiddleware<TMiddleware>());
    }

    /// <summary>
    /// Registers a pipeline step at <paramref name="stage"/> under <paramref name="key"/>. A key that is already
    /// registered is ignored, so registrations are idempotent.
    /// </summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="stage">The place of the step in the pipeline.</param>
    /// <param name="key">A unique name of the step, such as the middleware's full type name.</param>
    /// <param name="apply">Adds the step to the application pipeline.</param>
    /// <returns>The builder.</returns>
    public static IAiEdgeBuilder AddStage(this IAiEdgeBuilder edge, AiEdgeStage stage, string key, Action<IApplicationBuilder> apply)
    {
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(apply);
        GetStages(edge).Add(stage, key, apply);
        return edge;
    }

    /// <summary>Gets whether a step with <paramref name="key"/> is registered.</summary>
    /// <param name="edge">The AiEdge builder.</param>
    /// <param name="key">The step's key (for middleware, its full type name).</param>
    /// <returns><see langword="true"/> when the step is registered.</returns>
    public static bool HasStage(this IAiEdgeBuilder edge, string key)
    {
        ArgumentNullException.ThrowIfNull(edge);
        return GetStages(edge).Contains(key);
    }

    private static AiEdgeStageRegistry GetStages(IAiEdgeBuilder edge)
        => edge is AiEdgeBuilder builder
            ? builder.Stages
            : throw new ArgumentException("The builder must be the one returned by AddAiEdge() or AddAiEdgeCore().", nameof(edge));
}
