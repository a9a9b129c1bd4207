namespace AiEdge.Middleware.Security;

/// <summary>Endpoint metadata choosing a named security headers policy instead of the default one.</summary>
public interface ISecurityHeadersPolicyMetadata
{
    /// <summary>Gets the policy name, as given to <see cref="SecurityHeadersOptions.AddPolicy"/>.</summary>
    string PolicyName { get; }
}
