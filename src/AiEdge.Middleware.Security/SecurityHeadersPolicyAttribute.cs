namespace AiEdge.Middleware.Security;

/// <summary>Chooses the named security headers policy for a controller, action or route handler.</summary>
/// <param name="policyName">The policy name, as given to <see cref="SecurityHeadersOptions.AddPolicy"/>.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Delegate, AllowMultiple = false, Inherited = true)]
public sealed class SecurityHeadersPolicyAttribute(string policyName) : Attribute, ISecurityHeadersPolicyMetadata
{
    /// <inheritdoc />
    public string PolicyName { get; } = string.IsNullOrEmpty(policyName) ? throw new ArgumentException("A policy name is required.", nameof(policyName)) : policyName;
}
