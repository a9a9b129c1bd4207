using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiEdge.Middleware.Core.Tests;

/// <summary>Fields a package registers with <c>AddAccessLogField</c> reach the access-log line of a real host, and only when recorded.</summary>
public sealed class AccessLogFieldTests
{
    [Fact]
    public async Task RegisteredFields_AppearAfterCoresFields_OnlyWhenTheRequestRecordedThem()
    {
        using var logs = new LogCapture();
        await using var app = await TestApp.StartAsync(
            builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Logging.AddFilter(AccessLogOptions.Category, LogLevel.Information);
                builder.Services.AddAiEdgeCore(static edge => edge
                    .AddAccessLog()
                    .AddAccessLogField(AccessLogField.Text("quota", "myco.quota.decision"))
                    .AddAccessLogField(AccessLogField.Milliseconds("quota_wait", "myco.quota.wait"))
                    .AddAccessLogField(AccessLogField.Text("quota", "myco.other")));
            },
            static app =>
            {
                app.UseAiEdge();
                app.MapGet("/recorded", static (HttpContext context) =>
                {
                    var decisions = context.Features.Get<AiEdgeDecisionsFeature>()!;
                    decisions.Set("myco.quota.decision", "admitted");
                    decisions.Add("myco.quota.wait", 0.0125);
                    decisions.Add("myco.quota.wait", 0.0005);
                    decisions.Set("myco.other", "never shown");
                    return "ok";
                });
                app.MapGet("/silent", static () => "ok");
            });

        (await app.Client.GetAsync("/recorded")).Dispose();
        (await app.Client.GetAsync("/silent")).Dispose();

        var lines = logs.WithId(1900);
        Assert.Equal(2, lines.Count);
        var recorded = Assert.Single(lines, static l => l.Message.Contains("/recorded", StringComparison.Ordinal));
        Assert.EndsWith(" quota=admitted quota_wait=13", recorded.Message, StringComparison.Ordinal);
        Assert.Equal(" quota=admitted quota_wait=13", recorded.Value("Fields"));
        var silent = Assert.Single(lines, static l => l.Message.Contains("/silent", StringComparison.Ordinal));
        Assert.Matches(" trace=[0-9a-f-]+$", silent.Message);
        Assert.Equal(string.Empty, silent.Value("Fields"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    [InlineData("a=b")]
    public void FieldName_OutsideLettersDigitsUnderscoreDot_IsRefused(string name)
        => Assert.ThrowsAny<ArgumentException>(() => AccessLogField.Text(name, "myco.decision"));
}
