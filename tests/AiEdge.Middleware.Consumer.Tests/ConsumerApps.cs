using System.Text.Json.Nodes;
using System.Security.Cryptography;
using System.Text;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Consumer.Tests;

/// <summary>The consumer apps' collection: the suite is packed and each app is built once, for every test.</summary>
[CollectionDefinition(Name)]
public sealed class ConsumerAppsCollection : ICollectionFixture<ConsumerApps>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "consumer apps";
}

/// <summary>
/// Packs the suite into a local feed, starts an identity provider (discovery document and JWKS), and builds two apps
/// from the SDK's templates with the lines a user adds: <c>dotnet new web</c> with the app's own JwtBearer (no default
/// scheme), built-in rate limiter, output cache, health checks, OpenTelemetry (in-memory exporter) and OpenAPI; and
/// <c>dotnet new webapi --use-controllers</c> with <c>[Authorize]</c> on the template's controller and AiEdge placed
/// before or after the template's <c>app.UseAuthorization()</c>.
/// </summary>
public sealed class ConsumerApps : IAsyncLifetime
{
    /// <summary>The audience of the app's JwtBearer.</summary>
    public const string Audience = "consumer-api";

    /// <summary>An AiEdge API key the apps accept (scope <c>predict</c>).</summary>
    public const string ApiKey = "consumer-test-key-0123456789";

    private static readonly (string, string)[] WebPackages =
    [
        ("Microsoft.AspNetCore.OpenApi", "10.0.15"),
        ("OpenTelemetry.Extensions.Hosting", "1.20.1"),
        ("OpenTelemetry.Instrumentation.AspNetCore", "1.20.1"),
        ("OpenTelemetry.Exporter.InMemory", "1.20.1"),
        ("Microsoft.Extensions.Caching.StackExchangeRedis", "10.0.15"),
    ];

    private readonly PackedSuite _suite = new();
    private DirectoryInfo? _work;
    private RunningApp? _web;

    /// <summary>The identity provider the apps' JwtBearer trusts.</summary>
    public FakeIdentityProvider Idp { get; private set; } = null!;

    /// <summary>The app made from <c>dotnet new web</c>.</summary>
    public ConsumerApp Web { get; private set; } = null!;

    /// <summary>The app made from <c>dotnet new webapi --use-controllers</c>.</summary>
    public ConsumerApp WebApi { get; private set; } = null!;

    /// <summary>The <c>web</c> app, started once and shared.</summary>
    /// <remarks>Readiness results are not reused (<c>AiEdge:Health:CacheDuration</c> 0), so a check's change shows at once.</remarks>
    public async Task<RunningApp> RunningWebAsync() => _web ??= await Web.StartAsync(IdpArgument(), "--AiEdge:Health:CacheDuration=00:00:00");

    /// <summary>The command-line setting that points the apps' JwtBearer at <see cref="Idp"/>.</summary>
    public string IdpArgument() => "--Idp:Authority=" + Idp.Issuer;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Idp = await FakeIdentityProvider.StartAsync();
        await _suite.InitializeAsync();
        _work = Directory.CreateTempSubdirectory("aiedge-consumer-");
        Web = await ConsumerApp.CreateAsync(_suite, _work.FullName, "WebConsumer", ["web"], WebPackages, EditWebAsync);
        WebApi = await ConsumerApp.CreateAsync(_suite, _work.FullName, "ApiConsumer", ["webapi", "--use-controllers"], [], EditWebApiAsync);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        _web?.Dispose();
        await _suite.DisposeAsync();
        if (Idp is not null)
        {
            await Idp.DisposeAsync();
        }

        _work?.Delete(recursive: true);
    }

    /// <summary>
    /// The <c>web</c> template's Program.cs with the app's parts and AiEdge added (Apps/web/Program.cs); every line the
    /// template generated stays, in its order.
    /// </summary>
    private static async Task EditWebAsync(string directory)
    {
        var program = Path.Combine(directory, "Program.cs");
        var generated = (await File.ReadAllLinesAsync(program)).Where(static line => line.Trim().Length > 0).ToArray();
        var ours = await File.ReadAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "Apps", "web", "Program.cs"));
        var at = 0;
        foreach (var line in generated)
        {
            at = Array.IndexOf(ours, line, at);
            Assert.True(at >= 0, $"The web template's line \"{line}\" is missing (or out of order) in Apps/web/Program.cs.");
        }

        await File.WriteAllLinesAsync(program, ours);
        await AddAiEdgeSettingsAsync(directory, caching: true);
    }

    /// <summary>
    /// The <c>webapi</c> template as generated, with what a user adds: JwtBearer and AiEdge services, <c>[Authorize]</c>
    /// on the template's controller, and <c>app.UseAiEdge()</c> beside the template's <c>app.UseAuthorization()</c>
    /// (before it with <c>--AiEdgePlacement=before</c>; after it by default; <c>--AiEdgePlacement=routing-first</c>
    /// puts the app's <c>UseRouting()</c> and <c>UseAuthorization()</c> before it, an order that cannot work).
    /// </summary>
    private static async Task EditWebApiAsync(string directory)
    {
        var program = Path.Combine(directory, "Program.cs");
        var text = await File.ReadAllTextAsync(program);
        text = "using Microsoft.AspNetCore.Authentication.JwtBearer;\n" + Replace(text, "builder.Services.AddControllers();", """
            builder.Services.AddControllers();
            builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
            {
                options.Authority = builder.Configuration["Idp:Authority"];
                options.RequireHttpsMetadata = false;
                options.Audience = "consumer-api";
            });
            builder.Services.AddAiEdge(edge => edge.AddEdgeAuthentication().AddRateLimiting());
            """);
        text = Replace(text, "app.UseAuthorization();", """
            var placement = app.Configuration["AiEdgePlacement"];
            if (placement == "before") app.UseAiEdge();
            if (placement == "routing-first") app.UseRouting();
            app.UseAuthorization();
            if (placement != "before") app.UseAiEdge();
            """);
        await File.WriteAllTextAsync(program, text);

        var controller = Path.Combine(directory, "Controllers", "WeatherForecastController.cs");
        var source = await File.ReadAllTextAsync(controller);
        source = "using Microsoft.AspNetCore.Authorization;\n" + Replace(source, "public class WeatherForecastController", "[Authorize]\npublic class WeatherForecastController");
        await File.WriteAllTextAsync(controller, source);
        await AddAiEdgeSettingsAsync(directory, caching: false);
    }

    /// <summary>
    /// Adds the <c>AiEdge</c> section to the template's appsettings.json: only sections of the packages the app adds,
    /// since settings of a package that is not added fail at startup.
    /// </summary>
    private static async Task AddAiEdgeSettingsAsync(string directory, bool caching)
    {
        var path = Path.Combine(directory, "appsettings.json");
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
        settings["AiEdge"] = new JsonObject
        {
            ["RateLimiting"] = new JsonObject
            {
                ["Tiers"] = new JsonObject
                {
                    ["predict"] = new JsonObject { ["Rate"] = "1r/m", ["Burst"] = 2 },
                    ["wide"] = new JsonObject { ["Rate"] = "100r/s", ["Burst"] = 100 },
                },
            },
            ["Authentication"] = new JsonObject
            {
                ["ApiKeys"] = new JsonObject
                {
                    ["Keys"] = new JsonObject
                    {
                        ["partner"] = new JsonObject { ["Hash"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey))), ["Scopes"] = new JsonArray("predict") },
                    },
                },
            },
        };
        if (caching)
        {
            settings["AiEdge"]!["Caching"] = new JsonObject { ["Anonymous"] = "Shared" };
        }

        await File.WriteAllTextAsync(path, settings.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    private static string Replace(string text, string anchor, string replacement)
    {
        Assert.True(text.Contains(anchor, StringComparison.Ordinal), $"The template no longer contains \"{anchor}\".");
        return text.Replace(anchor, replacement, StringComparison.Ordinal);
    }
}
