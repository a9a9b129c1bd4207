using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>
/// CORS at its stage: a preflight is answered <c>204</c> here, before authentication and rate limiting see it;
/// an actual cross-origin request gets its CORS headers when the response starts (so error answers keep them).
/// Requests without <c>Origin</c> pass untouched.
/// </summary>
internal sealed partial class EdgeCorsMiddleware
{
    private const string Concern = "cors";

    private static readonly Func<object, Task> ApplyOnStarting = static state =>
    {
        var pending = (PendingCors)state;
        pending.Service.ApplyResult(pending.Result, pending.Context.Response);
        AppendVaryOrigin(pending.Context.Response);
        return Task.CompletedTask;
    };

    private readonly RequestDelegate _next;
    private readonly ICorsService _cors;
    private readonly EdgeCorsPolicy _policy;
    private readonly SecurityMetrics _metrics;
    private readonly ILogger _logger;

    public EdgeCorsMiddleware(RequestDelegate next, ICorsService cors, EdgeCorsPolicy policy, SecurityMetrics metrics, ILogger<EdgeCorsMiddleware> logger)
    {
        _next = next;
        _cors = cors;
        _policy = policy;
        _metrics = metrics;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        // The typed property: Kestrel reads its own field for it instead of looking the name up.
        if (context.Request.Headers.Origin.Count == 0)
        {
            return _next(context);
        }

        var result = _cors.EvaluatePolicy(context, _policy.Current.Policy);
        if (!result.IsOriginAllowed)
        {
            _metrics.Rejected(Concern, result.IsPreflightRequest ? "preflight_origin_not_allowed" : "origin_not_allowed");
            Log.OriginRefused(_logger);
        }

        if (result.IsPreflightRequest)
        {
            // The preflight ends here whatever the origin: a refused origin gets a 204 without CORS headers, which
            // the browser treats as a refusal; later stages (authentication, rate limiting) never see it.
            var response = context.Response;
            _cors.ApplyResult(result, response);
            AppendVaryOrigin(response);
            response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }

        context.Response.OnStarting(ApplyOnStarting, new PendingCors(context, _cors, result));
        return _next(context);
    }

    private static void AppendVaryOrigin(HttpResponse response)
    {
        var vary = response.Headers.Vary;
        foreach (var value in vary)
        {
            if (value is not null && value.Contains(HeaderNames.Origin, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }
        }

        response.Headers.Append(HeaderNames.Vary, HeaderNames.Origin);
    }

    private sealed class PendingCors(HttpContext context, ICorsService service, CorsResult result)
    {
        public HttpContext Context { get; } = context;

        public ICorsService Service { get; } = service;

        public CorsResult Result { get; } = result;
    }

    private static partial class Log
    {
        [LoggerMessage(1511, LogLevel.Debug, "Cross-origin request from an origin that is not allowed; no CORS headers sent.", EventName = "CorsOriginRefused")]
        public static partial void OriginRefused(ILogger logger);
    }
}
