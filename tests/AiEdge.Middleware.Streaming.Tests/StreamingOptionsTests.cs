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
