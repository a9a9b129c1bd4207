using AiEdge.Middleware.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Docs.Tests.Snippets;

/// <summary>docs/authentication.md.</summary>
public static class AuthenticationSnippets
{
    public static WebApplication Endpoints(WebApplicationBuilder builder)
    {
        #region authentication-1
        builder.Services.AddAiEdge(edge => edge.AddEdgeAuthentication());   // or AddAiEdgeCore(...) with the single package
        var app = builder.Build();
        app.UseAiEdge();                 // runs at AiEdgeStage.Authentication: after CORS and health, before rate limiting

        app.MapPost("/v1/predict", Predict).RequireScopes("predict");       // 401 without credentials, 403 without the scope
        app.MapPost("/v1/admin/reload", Reload).RequireAuthenticatedCaller();
        app.MapGet("/v1/models", Models);                                    // anonymous unless RequireAuthenticatedCaller is on
        #endregion
        return app;
    }

    public static void CodeConfiguration(WebApplicationBuilder builder)
        => builder.Services.AddAiEdge(edge =>
        {
            #region authentication-2
            edge.AddEdgeAuthentication(o =>
            {
                o.ApiKeys.Add("acme-prod", hash: "9f86d0...", plan: "pro", "predict", "generate");
                o.Jwt.ValidIssuers.Add("https://login.example.com/");
                o.Jwt.ValidAudiences.Add("model-api");
                o.Jwt.SigningKeys.Add(new JwtSigningKey { PublicKeyPem = File.ReadAllText("issuer.pem") });
            });
            #endregion
        });

    public static WebApplication WebApiTemplate(WebApplicationBuilder builder)
    {
        #region authentication-4
        builder.Services.AddControllers();
        builder.Services.AddAuthentication().AddJwtBearer(o =>    // the app's own scheme, as the template has it
        {
            o.Authority = "https://login.example.com/";
            o.Audience = "model-api";
        });
        builder.Services.AddAuthorization();
        builder.Services.AddAiEdge(edge => edge.AddEdgeAuthentication().AddRateLimiting());

        var app = builder.Build();
        app.UseHttpsRedirection();
        app.UseAuthorization();          // where the template puts it: before or after UseAiEdge() both work
        app.UseAiEdge();
        app.MapControllers();            // [Authorize] controllers: the app's JwtBearer or an AiEdge API key
        app.MapPost("/v1/predict", Predict).RequireScopes("predict");   // scope/scp of the app's tokens count
        #endregion
        return app;
    }

    public static void Discovery(WebApplicationBuilder builder)
        => builder.Services.AddAiEdge(edge =>
        {
            #region authentication-5
            edge.AddEdgeAuthentication(o =>
            {
                o.Jwt.Authority = "https://login.example.com/";       // discovery document + JWKS, rotated keys followed
                o.Jwt.ValidAudiences.Add("model-api");
            });
            edge.ConfigureEdgeJwtBearer(o => o.Events.OnTokenValidated = context =>
            {
                // ASP.NET Core's JwtBearerEvents; AiEdge's own handling runs after the app's delegate.
                return Task.CompletedTask;
            });
            #endregion
        });

    public static (string Key, string Hash) NewKey()
    {
        #region authentication-3
        var key = ApiKeyHasher.GenerateKey("sk_live_");   // give this to the customer, once
        var hash = ApiKeyHasher.ComputeHash(key);         // put this in AiEdge:Authentication:ApiKeys:Keys:<name>:Hash
        #endregion
        return (key, hash);
    }

    private static IResult Predict() => TypedResults.Ok(new { label = "positive" });

    private static IResult Reload() => TypedResults.NoContent();

    private static IResult Models() => TypedResults.Ok(new[] { "sentiment" });
}
