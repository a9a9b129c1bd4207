using AiEdge.Middleware;
using AiEdge.Middleware.Resilience;

namespace AiEdge.Samples.Gateway;

/// <summary>
/// The gateway's two backend pools, configured under <c>AiEdge:Resilience:Backends</c>: <c>vllm</c> (the
/// OpenAI-compatible model servers) and <c>qdrant</c>. Each is a named <see cref="HttpClient"/> over the Resilience
/// package's backend pool: weighted least-loaded selection, a circuit breaker per replica, active health probes,
/// timeouts, and 502/503/504 problem answers instead of exceptions.
/// </summary>
public sealed class GatewayBackends(IHttpClientFactory clients)
{
    /// <summary>The name of the model-server pool (NGINX <c>upstream vllm_service</c>).</summary>
    public const string VllmName = "vllm";

    /// <summary>The name of the vector-database pool (NGINX <c>upstream qdrant_service</c>).</summary>
    public const string QdrantName = "qdrant";

    /// <summary>Gets a client of the model-server pool.</summary>
    public ModelBackendClient Vllm => new(clients.CreateClient(VllmName));

    /// <summary>Gets a client of the vector-database pool.</summary>
    public ModelBackendClient Qdrant => new(clients.CreateClient(QdrantName));
}

/// <summary>Registers the gateway's backend pools.</summary>
public static class GatewayBackendsExtensions
{
    /// <summary>Adds the Resilience stage and the <c>vllm</c> and <c>qdrant</c> pool clients.</summary>
    public static IAiEdgeBuilder AddGatewayBackends(this IAiEdgeBuilder edge)
    {
        edge.AddResilience();
        AddPool(edge.Services, GatewayBackends.VllmName);
        AddPool(edge.Services, GatewayBackends.QdrantName);
        edge.Services.AddSingleton<GatewayBackends>();
        return edge;
    }

    private static void AddPool(IServiceCollection services, string name) =>
        services.AddHttpClient(name, static client =>
            {
                client.BaseAddress = ResilienceHttpClientBuilderExtensions.PlaceholderBaseAddress;
                client.Timeout = Timeout.InfiniteTimeSpan;   // the pool's AttemptTimeout/TotalTimeout bound calls
            })
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = System.Net.DecompressionMethods.None,
            })
            .AddBackendPool(name);
}
