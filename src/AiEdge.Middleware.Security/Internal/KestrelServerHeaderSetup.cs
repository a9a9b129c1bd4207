using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Security.Internal;

/// <summary>
/// Switches off Kestrel's <c>Server: Kestrel</c> header when the security headers remove <c>Server</c>: Kestrel
/// adds it after the response's OnStarting callbacks ran, and on answers it gives without running the app.
/// </summary>
internal sealed class KestrelServerHeaderSetup(IOptions<SecurityHeadersOptions> options) : IPostConfigureOptions<KestrelServerOptions>
{
    public void PostConfigure(string? name, KestrelServerOptions kestrel)
    {
        if (options.Value is { Enabled: true, RemoveServerHeader: true })
        {
            kestrel.AddServerHeader = false;
        }
    }
}
