using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiEdge.Middleware.Core.Tests;

/// <summary>
/// AddAiEdge never replaces what the app registered: its ProblemDetails customization, TimeProvider and HTTP JSON
/// options are the ones in use, whether the app registers them before or after <c>AddAiEdgeCore()</c>.
/// </summary>
public sealed class AppRegistrationsTests
{
    private static readonly FakeTimeProvider AppClock = new(TestClock.Start);

    private static Task<TestApp> StartAsync(bool appFirst)
        => TestApp.StartAsync(
            builder =>
            {
                if (appFirst)
                {
                    RegisterAppParts(builder.Services);
                }

                builder.Services.AddAiEdgeCore();
                if (!appFirst)
                {
                    RegisterAppParts(builder.Services);
                }
            },
            app =>
            {
                app.UseAiEdge();
                app.MapGet("/refused", static context => AiEdgeProblems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Refused"));
                app.MapGet("/clock", static (TimeProvider time) => time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            });

    private static void RegisterAppParts(IServiceCollection services)
    {
        services.AddProblemDetails(static options => options.CustomizeProblemDetails = static context => context.ProblemDetails.Extensions["app"] = "customized");
        services.AddSingleton<TimeProvider>(AppClock);
        services.ConfigureHttpJsonOptions(static json => json.SerializerOptions.WriteIndented = true);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AppsProblemDetailsCustomization_AndJsonOptions_ShapeAiEdgeProblems(bool appFirst)
    {
        await using var app = await StartAsync(appFirst);

        using var refused = await app.Client.GetAsync("/refused");
        using var missing = await app.Client.GetAsync("/missing");

        foreach (var (response, status) in new[] { (refused, HttpStatusCode.TooManyRequests), (missing, HttpStatusCode.NotFound) })
        {
            var problem = await ProblemAssert.IsProblemAsync(response, status);
            Assert.Equal("customized", problem.GetProperty("app").GetString());
            Assert.Contains("\n  \"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AppsTimeProvider_IsTheOneInUse(bool appFirst)
    {
        await using var app = await StartAsync(appFirst);

        Assert.Same(AppClock, app.Services.GetRequiredService<TimeProvider>());
        Assert.Equal(AppClock.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture), await app.Client.GetStringAsync("/clock"));
    }
}
