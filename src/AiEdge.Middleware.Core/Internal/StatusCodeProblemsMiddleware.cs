using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// ASP.NET Core's status code pages (a problem body for a body-less 4xx/5xx answer, through
/// <see cref="StatusCodePagesOptions.HandleAsync"/>), without touching <see cref="HttpContext.Items"/> per request:
/// the framework's middleware stores its re-execute path format there (<c>Items["StatusCodePagesOptions"]</c>),
/// which creates the items dictionary on every request. Options resolved from DI never carry a path format (only
/// <c>UseStatusCodePagesWithReExecute</c> sets one, on its own options), so the stored value is always
/// <see langword="null"/>, and reading it gives the same answer when it is not stored at all.
/// </summary>
internal sealed class StatusCodeProblemsMiddleware
{
    private readonly RequestDelegate _next;
    private readonly StatusCodePagesOptions _options;

    public StatusCodeProblemsMiddleware(RequestDelegate next, IOptions<StatusCodePagesOptions> options)
    {
        _next = next;
        _options = options.Value;
        if (_options.HandleAsync is null)
        {
            throw new ArgumentException("Missing options.HandleAsync implementation.");
        }
    }

    public Task InvokeAsync(HttpContext context)
    {
        var feature = new StatusCodePagesFeature();
        RequestFeatures.Set<IStatusCodePagesFeature>(context, feature);
        var endpoint = RequestFeatures.Endpoint(context);
        var checkEndpointAgain = endpoint is null;
        if (HasSkipMetadata(endpoint))
        {
            feature.Enabled = false;
        }

        // Most requests complete without yielding: answered without a state machine of this stage's own.
        var next = _next(context);
        return next.IsCompletedSuccessfully ? AfterNext(context, feature, checkEndpointAgain) : AwaitNextAsync(next, context, feature, checkEndpointAgain);
    }

    private async Task AwaitNextAsync(Task next, HttpContext context, StatusCodePagesFeature feature, bool checkEndpointAgain)
    {
        await next;
        await AfterNext(context, feature, checkEndpointAgain);
    }

    private Task AfterNext(HttpContext context, StatusCodePagesFeature feature, bool checkEndpointAgain)
    {
        if (!feature.Enabled || (checkEndpointAgain && HasSkipMetadata(RequestFeatures.Endpoint(context))))
        {
            return Task.CompletedTask;
        }

        var response = context.Response;
        if (response.HasStarted
            || response.StatusCode < 400
            || response.StatusCode >= 600
            || response.ContentLength.HasValue
            || !string.IsNullOrEmpty(response.ContentType))
        {
            return Task.CompletedTask;
        }

        return _options.HandleAsync(new StatusCodeContext(context, _options, _next));
    }

    private static bool HasSkipMetadata(Endpoint? endpoint)
        => endpoint?.Metadata.GetMetadata<ISkipStatusCodePagesMetadata>() is not null;
}
