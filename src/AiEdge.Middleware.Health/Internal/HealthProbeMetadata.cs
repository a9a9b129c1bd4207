namespace AiEdge.Middleware.Health.Internal;

/// <summary>
/// Marks AiEdge's liveness and readiness endpoints: the Health stage runs an endpoint carrying it right there,
/// before authentication, body limits, rate limiting and caching. One shared instance.
/// </summary>
internal sealed class HealthProbeMetadata
{
    public static readonly HealthProbeMetadata Instance = new();

    private HealthProbeMetadata()
    {
    }
}
