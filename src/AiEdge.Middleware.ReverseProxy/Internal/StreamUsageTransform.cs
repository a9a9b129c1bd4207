using System.Buffers;
using AiEdge.Middleware.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace AiEdge.Middleware.ReverseProxy.Internal;

/// <summary>
/// A request transform on every route: a JSON <c>POST</c> that a token budget applies to (the rate limiter set
/// <see cref="ITokenUsageFeature"/>) is read, at most up to the route's body limit (1 MiB when it has none), and a
/// streamed call (<c>"stream": true</c>) gets a <see cref="UsageMeter"/>; when its caller did not ask for usage and
/// <see cref="ProxyStreamOptions.RequestUsage"/> is on, the backend receives the body with
/// <c>"stream_options": {"include_usage": true}</c>. Any other body, or one that is not JSON or too long, is sent as
/// it came. Decided once per call: a retry sends the same body.
/// </summary>
internal sealed class StreamUsageTransform : ITransformProvider
{
    /// <summary>The most body bytes read when the route sets no body limit.</summary>
    public const int DefaultMaxBodyBytes = 1024 * 1024;

    private readonly bool _requestUsage;
    private readonly Func<RequestTransformContext, ValueTask> _transform;

    public StreamUsageTransform(IOptions<AiEdgeReverseProxyOptions> options)
    {
        _requestUsage = options.Value.Streams.RequestUsage;
        _transform = TransformAsync;
    }

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.AddRequestTransform(_transform);

    private ValueTask TransformAsync(RequestTransformContext context)
    {
        var http = context.HttpContext;
        var request = http.Request;
        if (http.Features.Get<ITokenUsageFeature>() is not { } usage || http.Features.Get<ProxyCallGuard>() is not { } guard)
        {
            return ValueTask.CompletedTask;
        }

        if (guard.Meter is not null)
        {
            // A retry: the body is the one rewritten for the first attempt (rewound), but the length is copied anew.
            if (guard.RewrittenBodyLength is { } length && context.ProxyRequest.Content is { } content)
            {
                content.Headers.ContentLength = length;
            }

            return ValueTask.CompletedTask;
        }

        if (!HttpMethods.IsPost(request.Method)
            || !IsJson(request.ContentType)
            || request.ContentLength == 0)
        {
            return ValueTask.CompletedTask;
        }

        var limit = MaxBodyBytes(http);
        return request.ContentLength > limit ? ValueTask.CompletedTask : MeterAsync(context, usage, guard, limit);
    }

    private async ValueTask MeterAsync(RequestTransformContext context, ITokenUsageFeature usage, ProxyCallGuard guard, int limit)
    {
        var request = context.HttpContext.Request;
        request.EnableBuffering();
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 16 * 1024, limit) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        return;   // longer than the limit: sent as it came, unmetered
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), context.CancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    return;
                }
            }

            var json = buffer.AsSpan(0, length);
            var kind = UsageRequest.Classify(json);
            if (kind == UsageRequestKind.NotStreamed)
            {
                return;
            }

            var inject = kind == UsageRequestKind.NotAsked && _requestUsage;
            guard.Meter = new UsageMeter(usage, inject);
            if (!inject)
            {
                return;
            }

            var rewritten = new MemoryStream(length + 64);
            UsageRequest.WriteWithUsage(json, rewritten);
            rewritten.Position = 0;
            request.Body = rewritten;   // seekable: a retry sends it again from the start
            context.HttpContext.Response.RegisterForDispose(rewritten);
            guard.RewrittenBodyLength = rewritten.Length;
            if (context.ProxyRequest.Content is { } content)
            {
                content.Headers.ContentLength = rewritten.Length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (request.Body.CanSeek)
            {
                request.Body.Position = 0;
            }
        }
    }

    private static int MaxBodyBytes(HttpContext context)
        => context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize is { } max and > 0
            ? (int)Math.Min(max, int.MaxValue - 1)
            : DefaultMaxBodyBytes;

    private static bool IsJson(string? contentType)
        => contentType is not null
            && (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
                || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase));
}
