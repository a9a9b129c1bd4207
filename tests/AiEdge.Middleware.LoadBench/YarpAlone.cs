namespace AiEdge.Middleware.LoadBench;

/// <summary>
/// YARP alone, the gateway sample's embeddings route with nothing of AiEdge: <c>POST /v1/embeddings</c> relayed
/// round-robin to two destinations of one cluster with active health checks, as the gateway sample relays it, but
/// without the edge's API-key check, rate limit, security headers, header hygiene and breakers. Beside the gateway
/// sample (target <c>gateway-aiedge</c>) it shows what the edge adds to the proxy; beside NGINX's gateway, what the
/// proxy itself costs. The destinations come from configuration (<c>YarpAlone:Destinations:0</c>, <c>:1</c>).
/// </summary>
internal static class YarpAlone
{
    public static int Run(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var destinations = builder.Configuration.GetSection("YarpAlone:Destinations").Get<string[]>();
        if (destinations is not { Length: > 0 })
        {
            throw new InvalidOperationException("YarpAlone:Destinations must name at least one destination address.");
        }

        var proxy = new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:embeddings:ClusterId"] = "models",
            ["ReverseProxy:Routes:embeddings:Match:Path"] = "/v1/embeddings",
            ["ReverseProxy:Routes:embeddings:Match:Methods:0"] = "POST",
            ["ReverseProxy:Clusters:models:LoadBalancingPolicy"] = "RoundRobin",
            ["ReverseProxy:Clusters:models:HealthCheck:Active:Enabled"] = "true",
            ["ReverseProxy:Clusters:models:HealthCheck:Active:Interval"] = "00:00:03",
            ["ReverseProxy:Clusters:models:HealthCheck:Active:Timeout"] = "00:00:01",
            ["ReverseProxy:Clusters:models:HealthCheck:Active:Policy"] = "ConsecutiveFailures",
            ["ReverseProxy:Clusters:models:HealthCheck:Active:Path"] = "/healthz",
        };
        for (var i = 0; i < destinations.Length; i++)
        {
            proxy[$"ReverseProxy:Clusters:models:Destinations:d{i}:Address"] = destinations[i];
        }

        builder.Configuration.AddInMemoryCollection(proxy);
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

        var app = builder.Build();
        app.MapGet("/healthz", static () => Results.Ok());
        app.MapReverseProxy();
        app.Run();
        return 0;
    }
}
