using AiEdge.Middleware.Configuration.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Internal;

internal sealed class AiEdgeBuilder(IServiceCollection services, AiEdgeStageRegistry stages, ConfigurationSections sections) : IAiEdgeBuilder
{
    public IServiceCollection Services { get; } = services;

    public AiEdgeStageRegistry Stages { get; } = stages;

    public ConfigurationSections Sections { get; } = sections;
}
