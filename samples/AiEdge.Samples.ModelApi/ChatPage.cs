using AiEdge.Middleware;
using AiEdge.Middleware.Security;

namespace AiEdge.Samples.ModelApi;

/// <summary>
/// A small page that streams a chat completion from <c>POST /v1/chat/completions</c> with <c>fetch</c> and a
/// <c>ReadableStream</c> reader (<c>wwwroot/index.html</c> and <c>wwwroot/chat.js</c>), served at <c>GET /</c>
/// (also <c>/index.html</c>) and <c>GET /chat.js</c>.
/// The API preset's <c>Content-Security-Policy: default-src 'none'</c> would block the page's script, so these two
/// endpoints use the named security-headers policy <see cref="PolicyName"/>: the API preset with a CSP that allows
/// exactly what the page needs — its script from the same origin and <c>fetch</c> to the same origin — and nothing
/// inline. Every other route keeps the strict preset.
/// </summary>
public static class ChatPage
{
    /// <summary>The name of the page's security-headers policy.</summary>
    public const string PolicyName = "chat-page";

    /// <summary>Registers the page's security-headers policy.</summary>
    public static IAiEdgeBuilder AddChatPage(this IAiEdgeBuilder edge) =>
        edge.AddSecurityHeaders(options => options.AddPolicy(PolicyName, policy => policy
            .AddDefaultApiSecurityHeaders()
            .AddContentSecurityPolicy(csp =>
            {
                csp.AddDefaultSrc().None();
                csp.AddScriptSrc().Self();
                csp.AddConnectSrc().Self();
                csp.AddBaseUri().None();
                csp.AddFormAction().None();
                csp.AddFrameAncestors().None();
            })));

    /// <summary>
    /// Maps <c>GET /</c>, <c>GET /index.html</c> and <c>GET /chat.js</c> with the page's policy, each answering HEAD
    /// too (ASP.NET Core's <c>MapGet</c> answers only GET; Kestrel sends a HEAD the GET's headers without the body).
    /// </summary>
    public static void MapChatPage(this WebApplication app)
    {
        app.MapMethods("/", GetAndHead, ServePage).WithSecurityHeadersPolicy(PolicyName);
        app.MapMethods("/index.html", GetAndHead, ServePage).WithSecurityHeadersPolicy(PolicyName);
        app.MapMethods("/chat.js", GetAndHead, static (IWebHostEnvironment environment) => Serve(environment, "chat.js", "text/javascript; charset=utf-8"))
            .WithSecurityHeadersPolicy(PolicyName);
    }

    /// <summary>The methods of the sample's read-only routes: GET, and HEAD for the same headers without a body.</summary>
    public static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    private static IResult ServePage(IWebHostEnvironment environment) => Serve(environment, "index.html", "text/html; charset=utf-8");

    private static IResult Serve(IWebHostEnvironment environment, string name, string contentType)
    {
        var file = environment.WebRootFileProvider.GetFileInfo(name);
        return file.Exists
            ? Results.Stream(file.CreateReadStream(), contentType, lastModified: file.LastModified)
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: "The chat page is not deployed (wwwroot/" + name + ").");
    }
}
