namespace AiEdge.Middleware.Authentication;

/// <summary>Names used by AiEdge authentication.</summary>
public static class EdgeAuthenticationDefaults
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string ConfigurationSection = "AiEdge:Authentication";

    /// <summary>The authentication scheme that picks API-key or JWT validation for a request.</summary>
    public const string AuthenticationScheme = "AiEdge";

    /// <summary>The API-key authentication scheme, also the authentication type of the identities it makes.</summary>
    public const string ApiKeyScheme = AiEdgeAuthenticationTypes.ApiKey;

    /// <summary>
    /// The JWT bearer authentication scheme (ASP.NET Core's <c>JwtBearerHandler</c>, configured from
    /// <c>AiEdge:Authentication:Jwt</c>; see <c>ConfigureEdgeJwtBearer</c>), also the authentication type of the
    /// identities it makes.
    /// </summary>
    public const string JwtBearerScheme = AiEdgeAuthenticationTypes.JwtBearer;

    /// <summary>The default header carrying an API key.</summary>
    public const string ApiKeyHeaderName = "X-API-Key";
}
