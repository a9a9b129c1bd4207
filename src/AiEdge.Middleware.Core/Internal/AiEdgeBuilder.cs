using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Internal;

internal sealed class AiEdgeBuilder(IServiceCollection services, AiEdgeStageRegistry stages) : IAiEdgeBuilder
{
    public IServiceCollection Services { get; } = services;

    public AiEdgeStageRegistry Stages { get; } = stages;
}
