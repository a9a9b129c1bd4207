using AiEdge.Middleware.Configuration.Internal;
using AiEdge.Middleware.Internal;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Core.Tests;

/// <summary>
/// <c>AddConfigurationSection</c>, the one mechanism every package declares its section with: unknown keys, bad
/// values and both duration syntaxes, for a section of a package of one's own (as a new package adopts it).
/// </summary>
public sealed class ConfigurationSectionTests
{
    [Theory]
    [InlineData("AiEdge:HandleExceptons", "false", "AiEdge:HandleExceptons is not a known setting; the nearest valid key is AiEdge:HandleExceptions.")]
    [InlineData("AiEdge:StatusCodeProblems", "yes", "AiEdge:StatusCodeProblems has the value \"yes\", which is not true or false.")]
    [InlineData("AiEdge:Widgt:Timeout", "5m", "AiEdge:Widgt is not a known setting; the nearest valid key is AiEdge:Widget.")]
    [InlineData("AiEdge:Widget:Timout", "5m", "AiEdge:Widget:Timout is not a known setting; the nearest valid key is AiEdge:Widget:Timeout.")]
    [InlineData("AiEdge:Widget:Timeout", "5 minutes", "AiEdge:Widget:Timeout has the value \"5 minutes\", which is not a duration such as 00:05:00, 5m, 30s, 250ms or 1h.")]
    [InlineData("AiEdge:Widget:Parts:a:Size", "big", "AiEdge:Widget:Parts:a:Size has the value \"big\", which is not a whole number.")]
    [InlineData("AiEdge:Widget:Parts:a:Colour", "red", "AiEdge:Widget:Parts:a:Colour is not a known setting; the nearest valid key is AiEdge:Widget:Parts:a:Color.")]
    [InlineData("AiEdge:Widget:OnEvent", "x", "AiEdge:Widget:OnEvent can only be set in code.")]
    [InlineData("AiEdge:Widget:Names:0:x", "a", "AiEdge:Widget:Names:0 must be a single value (text), not a section.")]
    [InlineData("AiEdge:AccessLog:Enabled", "true", "AiEdge:AccessLog is not a known setting")]
    public async Task Mistake_FailsAtStartup_NamingTheKey(string key, string value, string message)
    {
        await StartupAssert.FailsAsync(() => StartAsync(new Dictionary<string, string?> { [key] = value }), message);
    }

    [Fact]
    public async Task EveryMistake_IsInOneException()
    {
        var error = await StartupAssert.FailsAsync(
            () => StartAsync(new Dictionary<string, string?>
            {
                ["AiEdge:HandleExceptons"] = "false",
                ["AiEdge:Widget:Timeout"] = "later",
                ["AiEdge:Widget:Parts:a:Size"] = "-1",
            }),
            "AiEdge:HandleExceptons is not a known setting");

        Assert.Equal(
            [
                "AiEdge:HandleExceptons is not a known setting; the nearest valid key is AiEdge:HandleExceptions.",
                "AiEdge:Widget:Parts:a:Size must not be negative.",
                "AiEdge:Widget:Timeout has the value \"later\", which is not a duration such as 00:05:00, 5m, 30s, 250ms or 1h.",
            ],
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("00:05:00", 300_000)]
    [InlineData("5m", 300_000)]
    [InlineData("30s", 30_000)]
    [InlineData("250ms", 250)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData(" 2m ", 120_000)]
    [InlineData("1.02:03:04.5", 93_784_500)]
    public async Task Durations_TakeBothSyntaxes_InObjectsDictionariesAndNullables(string value, long milliseconds)
    {
        await using var app = await StartAsync(new Dictionary<string, string?>
        {
            ["AiEdge:Widget:Timeout"] = value,
            ["AiEdge:Widget:Parts:a:Wait"] = value,
        });

        var widget = app.Services.GetRequiredService<IOptions<WidgetOptions>>().Value;
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), widget.Timeout);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), widget.Parts["a"].Wait);
    }

    [Fact]
    public async Task TheAppsOwnBinding_IsUnchanged()
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { ["App:Timeout"] = "5m" });

        // Only AiEdge sections take "5m": the app's own binder still reads TimeSpan as .NET does.
        Assert.Throws<InvalidOperationException>(() => app.Services.GetRequiredService<IConfiguration>().GetSection("App").Get<WidgetOptions>());
    }

    [Fact]
    public async Task KeysAreCaseInsensitive_AsTheBinderReadsThem()
    {
        await using var app = await StartAsync(new Dictionary<string, string?> { ["aiedge:widget:TIMEOUT"] = "1m", ["AIEDGE:handleexceptions"] = "false" });

        Assert.Equal(TimeSpan.FromMinutes(1), app.Services.GetRequiredService<IOptions<WidgetOptions>>().Value.Timeout);
        Assert.False(app.Services.GetRequiredService<IOptions<AiEdgeOptions>>().Value.HandleExceptions);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("m")]
    [InlineData("5y")]
    [InlineData("-5m")]
    [InlineData("5.5m")]
    [InlineData("99999999999999m")]
    public void Duration_Rejects(string text) => Assert.False(AiEdgeDuration.TryParse(text, out _));

    [Theory]
    [InlineData("Burts", "Burst", 2)]
    [InlineData("anonymus", "Anonymous", 1)]
    [InlineData("Rate", "rate", 0)]
    [InlineData("", "abc", 3)]
    public void EditDistance_IsCaseInsensitiveLevenshtein(string a, string b, int expected)
        => Assert.Equal(expected, ConfigurationShape.EditDistance(a.ToUpperInvariant(), b.ToUpperInvariant()));

    private static Task<TestApp> StartAsync(IDictionary<string, string?> configuration)
        => TestApp.StartEdgeAsync(
            static edge =>
            {
                edge.AddConfigurationSection<WidgetOptions>("AiEdge:Widget");
                edge.Services.AddSingleton<IValidateOptions<WidgetOptions>, WidgetOptionsValidator>();
            },
            static app => app.MapGet("/", static () => "ok"),
            new TestAppOptions { Configuration = configuration });

    public sealed class WidgetOptions
    {
        public TimeSpan Timeout { get; set; }

        public IDictionary<string, WidgetPart> Parts { get; } = new Dictionary<string, WidgetPart>(StringComparer.OrdinalIgnoreCase);

        public IList<string> Names { get; } = [];

        public Func<string, ValueTask>? OnEvent { get; set; }
    }

    public sealed class WidgetPart
    {
        public int Size { get; set; }

        public string? Color { get; set; }

        public TimeSpan? Wait { get; set; }
    }

    private sealed class WidgetOptionsValidator : IValidateOptions<WidgetOptions>
    {
        public ValidateOptionsResult Validate(string? name, WidgetOptions options)
        {
            foreach (var (partName, part) in options.Parts)
            {
                if (part.Size < 0)
                {
                    return ValidateOptionsResult.Fail("AiEdge:Widget:Parts:" + partName + ":Size must not be negative.");
                }
            }

            return ValidateOptionsResult.Success;
        }
    }
}
