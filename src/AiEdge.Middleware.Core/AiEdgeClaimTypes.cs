namespace AiEdge.Middleware;

/// <summary>Claim types the AiEdge packages agree on: authentication sets them, rate limiting and caching read them.</summary>
public static class AiEdgeClaimTypes
{
    /// <summary>The caller's plan (for example <c>free</c>, <c>pro</c>, <c>enterprise</c>), used to pick rate-limit plans.</summary>
    public const string Plan = "aiedge:plan";

    /// <summary>The name of the API key the caller authenticated with.</summary>
    public const string ApiKeyName = "aiedge:api_key";

    /// <summary>A granted scope; one claim per scope (a space-separated <c>scope</c> claim of a JWT is also honoured).</summary>
    public const string Scope = "scope";
}
