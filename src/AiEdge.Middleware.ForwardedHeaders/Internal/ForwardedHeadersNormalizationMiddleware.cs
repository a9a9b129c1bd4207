using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.ForwardedHeaders.Internal;

/// <summary>
/// Applies forwarded headers sent by a trusted peer to the connection's remote address and port and to the
/// request's scheme, host and path base, and exposes the originals as <see cref="IResolvedClientFeature"/>.
/// Headers from an untrusted peer are ignored entirely.
/// </summary>
internal sealed partial class ForwardedHeadersNormalizationMiddleware(
    RequestDelegate next,
    ForwardedHeadersResolver resolver,
    ILogger<ForwardedHeadersNormalizationMiddleware> logger)
{
    private static readonly object StateKey = new();

    public Task InvokeAsync(HttpContext context)
    {
        if (!resolver.Enabled)
        {
            return next(context);
        }

        Normalize(context);
        return next(context);
    }

    private void Normalize(HttpContext context)
    {
        var connection = context.Connection;
        var request = context.Request;
        var peer = connection.RemoteIpAddress;
        var state = GetState(context);
        state.Begin(peer, request.Scheme, request.Host, request.PathBase);
        RequestFeatures.Set<IResolvedClientFeature>(context, state);

        if (peer is null || !state.IsPeerTrusted(peer, resolver, out var peerValue))
        {
            return;
        }

        resolver.Resolve(peerValue, request.Headers, out var result);
        if (result.AppliedHops > 0)
        {
            var client = state.GetClientAddress(result.Client);
            connection.RemoteIpAddress = client;
            if (result.Port >= 0)
            {
                connection.RemotePort = result.Port;
            }

            state.Resolved(client, result.AppliedHops);
        }

        if (result.Scheme is not null)
        {
            request.Scheme = result.Scheme;
        }

        if (result.Host is not null)
        {
            request.Host = new HostString(result.Host);
        }

        if (result.PathBase is not null)
        {
            request.PathBase = new PathString(result.PathBase);
        }

        if (result.Stop is ForwardedStop.Unparsable or ForwardedStop.TooLong or ForwardedStop.Limit)
        {
            Log.WalkStopped(logger, result.Stop, result.AppliedHops);
        }
    }

    private static ResolvedClientState GetState(HttpContext context)
    {
        // Requests of an HTTP/1.x connection run one after another, so they can share one state object.
        var protocol = context.Request.Protocol;
        if ((HttpProtocol.IsHttp11(protocol) || HttpProtocol.IsHttp10(protocol))
            && RequestFeatures.Get<IConnectionItemsFeature>(context)?.Items is { } items)
        {
            if (items.TryGetValue(StateKey, out var existing) && existing is ResolvedClientState shared)
            {
                return shared;
            }

            var created = new ResolvedClientState();
            items[StateKey] = created;
            return created;
        }

        return new ResolvedClientState();
    }

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Debug, "Forwarded headers were applied only partly ({Reason}) after {AppliedHops} hops.", EventName = "ForwardedWalkStopped")]
        public static partial void WalkStopped(ILogger logger, ForwardedStop reason, int appliedHops);
    }
}
