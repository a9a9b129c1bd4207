using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiEdge.Middleware.Streaming.Tests;

public sealed class StreamingOptionsTests
{
    [Theory]
    [InlineData("AiEdge:Streaming:HeartbeatInterval", "-00:00:01", "AiEdge:Streaming:HeartbeatInterval must be from 00:00:00 (off) to 01:00:00")]
    [InlineData("AiEdge:Streaming:HeartbeatInterval", "02:00:00", "AiEdge:Streaming:HeartbeatInterval must be from 00:00:00 (off) to 01:00:00")]
    [InlineData("AiEdge:Streaming:AdditionalContentTypes:0", "ndjson", "AiEdge:Streaming:AdditionalContentTypes:0 must look like \"type/subtype\"")]
    [InlineData("AiEdge:Streaming:WebSockets:KeepAliveInterval", "-00:00:05", "AiEdge:Streaming:WebSockets:KeepAliveInterval must not be negative")]
    [InlineData("AiEdge:Streaming:WebSockets:IdleTimeout", "-00:00:05", "AiEdge:Streaming:WebSockets:IdleTimeout must not be negative")]
    public async Task BadConfiguration_FailsAtStartup_NamingTheKey(string key, string value, string message)
    {
        await StartupAssert.FailsAsync(
            () => TestApp.StartEdgeAsync(static edge => edge.AddStreaming(), static _ => { }, new TestAppOptions { Configuration = new Dictionary<string, string?> { [key] = value } }),
            message);
    }

    [Theory]
    [InlineData("AiEdge:Streaming:HeartbeatInterval", "20s", "00:00:20")]
    [InlineData("AiEdge:Streaming:WebSockets:KeepAliveInterval", "7s", "00:00:07")]
    [InlineData("AiEdge:Streaming:WebSockets:KeepAliveTimeout", "3s", "00:00:03")]
    [InlineData("AiEdge:Streaming:WebSockets:IdleTimeout", "5m", "00:05:00")]
    [InlineData("AiEdge:Streaming:WebSockets:IdleTimeout", "1500ms", "00:00:01.500")]
    public async Task Durations_TakeBothSyntaxes(string key, string shortForm, string timeSpanForm)
    {
        var bound = new List<TimeSpan>();
        foreach (var value in new[] { shortForm, timeSpanForm })
        {
            await using var app = await TestApp.StartEdgeAsync(static edge => edge.AddStreaming(), static _ => { }, new TestAppOptions { Configuration = new Dictionary<string, string?> { [key] = value } });
            var options = app.Services.GetRequiredService<IOptions<StreamingOptions>>().Value;
            bound.Add(key.EndsWith("HeartbeatInterval", StringComparison.Ordinal) ? options.HeartbeatInterval
                : key.EndsWith("KeepAliveInterval", StringComparison.Ordinal) ? options.WebSockets.KeepAliveInterval
                : key.EndsWith("KeepAliveTimeout", StringComparison.Ordinal) ? options.WebSockets.KeepAliveTimeout
                : options.WebSockets.IdleTimeout);
        }

        var expected = TimeSpan.Parse(timeSpanForm, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal([expected, expected], bound);
    }

    [Fact]
    public async Task BadDuration_FailsAtStartup_NamingKeyAndValue()
    {
        await StartupAssert.FailsAsync(
            () => TestApp.StartEdgeAsync(static edge => edge.AddStreaming(), static _ => { }, new TestAppOptions { Configuration = new Dictionary<string, string?> { ["AiEdge:Streaming:HeartbeatInterval"] = "15 sec" } }),
            "AiEdge:Streaming:HeartbeatInterval has the value \"15 sec\", which is not a duration such as 00:05:00, 5m, 30s, 250ms or 1h.");
    }

    [Fact]
    public async Task Configuration_BindsEverySetting()
    {
        await using var app = await TestApp.StartAsync(
            static builder => builder.Services.AddAiEdgeCore(static edge => edge.AddStreaming()),
            static app => app.UseAiEdge(),
            new Dictionary<string, string?>
            {
                ["AiEdge:Streaming:HeartbeatInterval"] = "00:00:20",
                ["AiEdge:Streaming:DetectEventStreams"] = "false",
                ["AiEdge:Streaming:AdditionalContentTypes:0"] = "application/x-ndjson",
                ["AiEdge:Streaming:WebSockets:KeepAliveInterval"] = "00:00:07",
                ["AiEdge:Streaming:WebSockets:KeepAliveTimeout"] = "00:00:03",
                ["AiEdge:Streaming:WebSockets:IdleTimeout"] = "00:05:00",
            });

        var options = app.Services.GetRequiredService<IOptions<StreamingOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(20), options.HeartbeatInterval);
        Assert.False(options.DetectEventStreams);
        Assert.Equal(["application/x-ndjson"], options.AdditionalContentTypes);
        Assert.Equal(TimeSpan.FromMinutes(5), options.WebSockets.IdleTimeout);
        var webSockets = app.Services.GetRequiredService<IOptions<WebSocketOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(7), webSockets.KeepAliveInterval);
        Assert.Equal(TimeSpan.FromSeconds(3), webSockets.KeepAliveTimeout);
    }

    [Fact]
    public void WithStreaming_NegativeInterval_Throws()
    {
        var builder = WebApplication.CreateSlimBuilder();
        var app = builder.Build();
        var endpoint = app.MapGet("/", () => "x");

        Assert.Throws<ArgumentOutOfRangeException>(() => endpoint.WithStreaming(TimeSpan.FromSeconds(-1)));
    }
}
