using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// The step of the proxy pipeline before <see cref="ProxyErrorMiddleware"/>: brings the cluster's cool-downs recorded
/// by other replicas in (<see cref="SharedCooldowns.RefreshAsync"/>), so the destinations they cooled down are not
/// chosen here either. Most calls find the last read fresh and go on synchronously.
/// </summary>
internal sealed class SharedCooldownMiddleware(RequestDelegate next, SharedCooldowns cooldowns)
{
    public Task InvokeAsync(HttpContext context)
    {
        var cluster = context.GetRouteModel().Cluster;
        if (cluster is null)
        {
            return next(context);
        }

        var refresh = cooldowns.RefreshAsync(cluster);
        return refresh.IsCompletedSuccessfully ? next(context) : AwaitThenNextAsync(refresh, context);
    }

    private async Task AwaitThenNextAsync(ValueTask refresh, HttpContext context)
    {
        await refresh.ConfigureAwait(false);
        await next(context).ConfigureAwait(false);
    }
}
