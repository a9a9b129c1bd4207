namespace AiEdge.Middleware;

/// <summary>
/// The <see cref="System.Security.Claims.ClaimsIdentity.AuthenticationType"/> of the identities AiEdge
/// authentication creates. <see cref="Microsoft.AspNetCore.Http.HttpContextEdgeExtensions.GetCallerId"/> reads it to
/// tell where a caller's identity came from; a client cannot choose it.
/// </summary>
public static class AiEdgeAuthenticationTypes
{
    /// <summary>An identity made from a configured API key; its claims are issued by this name as well.</summary>
    public const string ApiKey = "AiEdge.ApiKey";

    /// <summary>An identity made from a validated JWT; each claim's issuer is the token's <c>iss</c>.</summary>
    public const string JwtBearer = "AiEdge.JwtBearer";
}
