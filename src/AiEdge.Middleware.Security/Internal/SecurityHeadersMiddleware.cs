using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>
/// Chooses the endpoint's policy (and HSTS from <c>Request.IsHttps</c>, already normalized by forwarded headers)
/// and applies it when the response starts, so every later short-circuit, error page and exception answer
/// carries it too.
/// </summary>
internal sealed partial class SecurityHeadersMiddleware
{
    private readonly RequestDelegate _next;
    private readonly SecurityHeadersPolicies _policies;
    private readonly ILogger _logger;

    public SecurityHeadersMiddleware(RequestDelegate next, SecurityHeadersPolicies policies, ILogger<SecurityHeadersMiddleware> logger)
    {
        _next = next;
        _policies = policies;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (!_policies.Enabled)
        {
            return _next(context);
        }

        var policy = _policies.Default;
        if (RequestFeatures.Endpoint(context)?.Metadata.GetMetadata<ISecurityHeadersPolicyMetadata>() is { } metadata)
        {
            policy = _policies.Find(metadata.PolicyName) ?? UnknownPolicy(metadata.PolicyName);
        }

        var headers = context.Request.IsHttps ? policy.Https : policy.Http;
        context.Response.OnStarting(headers.ApplyOnStarting, context);
        return _next(context);
    }

    private CompiledSecurityHeaders UnknownPolicy(string name)
    {
        Log.UnknownPolicy(_logger, name);
        return _policies.Default;
    }

    private static partial class Log
    {
        [LoggerMessage(1501, LogLevel.Warning, "Security headers policy {Policy} is not registered; the default policy was sent.", EventName = "UnknownSecurityHeadersPolicy")]
        public static partial void UnknownPolicy(ILogger logger, string policy);
    }
}
