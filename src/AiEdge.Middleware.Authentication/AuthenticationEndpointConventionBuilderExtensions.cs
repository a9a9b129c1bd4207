using AiEdge.Middleware.Authentication;
using AiEdge.Middleware.Authentication.Internal;
using AiEdge.Middleware.Internal;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Per-endpoint caller requirements of AiEdge authentication.</summary>
public static class AuthenticationEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Requires an authenticated caller holding every one of <paramref name="scopes"/>: 401 without valid
    /// credentials, 403 <c>insufficient_scope</c> without the scopes. Same as <see cref="RequireScopesAttribute"/>;
    /// the convention also declares the 401 and 403 <c>application/problem+json</c> responses for OpenAPI.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder type.</typeparam>
    /// <param name="builder">The endpoint or group.</param>
    /// <param name="scopes">The required scopes, e.g. <c>predict</c>.</param>
    /// <returns>The builder.</returns>
    public static TBuilder RequireScopes<TBuilder>(this TBuilder builder, params string[] scopes)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var metadata = new RequireScopesAttribute(scopes);
        builder.Add(endpoint =>
        {
            EnsureRegistered(endpoint);
            endpoint.Metadata.Add(metadata);
            ProblemResponses.Add(endpoint, ProblemResponses.Unauthorized);
            ProblemResponses.Add(endpoint, ProblemResponses.Forbidden);
        });
        return builder;
    }

    /// <summary>
    /// Requires an authenticated caller (401 otherwise). Same as <see cref="RequireAuthenticatedCallerAttribute"/>; the
    /// convention also declares the 401 <c>application/problem+json</c> response for OpenAPI.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder type.</typeparam>
    /// <param name="builder">The endpoint or group.</param>
    /// <returns>The builder.</returns>
    public static TBuilder RequireAuthenticatedCaller<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(static endpoint =>
        {
            EnsureRegistered(endpoint);
            endpoint.Metadata.Add(RequireAuthenticatedCallerAttribute.Instance);
            ProblemResponses.Add(endpoint, ProblemResponses.Unauthorized);
        });
        return builder;
    }

    /// <summary>A requirement nobody enforces would leave the endpoint open: refuse to build it instead.</summary>
    private static void EnsureRegistered(EndpointBuilder endpoint)
    {
        if (endpoint.ApplicationServices.GetService<IServiceProviderIsService>() is { } services && !services.IsService(typeof(AuthenticationSettings)))
        {
            throw new InvalidOperationException(
                $"The endpoint '{endpoint.DisplayName}' requires an authenticated caller, but AiEdge authentication is not registered: add edge.AddEdgeAuthentication() to AddAiEdge(...).");
        }
    }
}
