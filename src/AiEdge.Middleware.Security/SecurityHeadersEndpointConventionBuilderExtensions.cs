using AiEdge.Middleware.Security;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Per-endpoint security headers.</summary>
public static class SecurityHeadersEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Sends the named security headers policy on the endpoints' responses instead of the default one. A name
    /// that no <c>AddPolicy</c> registered fails the application's start, naming it.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoints.</param>
    /// <param name="policyName">The policy name.</param>
    /// <returns>The builder.</returns>
    public static TBuilder WithSecurityHeadersPolicy<TBuilder>(this TBuilder builder, string policyName)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(policyName);
        var metadata = new SecurityHeadersPolicyAttribute(policyName);
        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        return builder;
    }
}
