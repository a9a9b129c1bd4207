using AiEdge.Middleware;

namespace AiEdge.Samples.ModelApi;

/// <summary>
/// The sample's identity: API keys from <c>AiEdge:Authentication</c> in appsettings.json. No route requires them
/// (the contract's routes are anonymous), but a caller that presents one is identified, so rate-limit plans and
/// cache tenancy apply to it. The sample's demo keys (hashes in appsettings.json; never ship these):
/// <list type="bullet">
/// <item><c>aiedge-sample-free-key</c>: name <c>sample-free</c>, plan <c>free</c>, scopes <c>predict</c>.</item>
/// <item><c>aiedge-sample-pro-key</c>: name <c>sample-pro</c>, plan <c>pro</c>, scopes <c>predict train generate</c>.</item>
/// </list>
/// Send one as <c>X-API-Key: aiedge-sample-pro-key</c> or <c>Authorization: Bearer aiedge-sample-pro-key</c>.
/// An unknown or malformed key is refused with 401/400 problem details.
/// Tokens of an identity provider are accepted beside the keys once configured, e.g.
/// <c>AiEdge__Authentication__Jwt__Authority=https://login.example.com/</c> and
/// <c>AiEdge__Authentication__Jwt__ValidAudiences__0=model-api</c> (discovery document and JWKS, rotated keys followed).
/// </summary>
internal static class SampleAuthentication
{
    public static IAiEdgeBuilder AddSampleAuthentication(this IAiEdgeBuilder edge) => edge.AddEdgeAuthentication();
}
