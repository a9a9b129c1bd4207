using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Streaming.Tests;

/// <summary>An upstream event stream (a second Kestrel app standing for an OpenAI-compatible backend) relayed as it arrives.</summary>
public sealed class RelayIntegrationTests
{
    [Theory]
    [InlineData("/relay-extension")]
    [InlineData("/relay-result")]
    public async Task Relay_BackendStillProducing_FirstEventArrives(string path)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await StartBackendAsync(release.Task, new TaskCompletionSource());
        await using var edge = await StartEdgeAsync(backend.BaseAddress);

        using var response = await edge.GetStreamAsync(path);
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());
        Assert.True(response.IsSuccessStatusCode, response.ToString());

        Assert.Equal("data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}", await reader.ReadBlockAsync());
        Assert.False(release.Task.IsCompleted);
        release.SetResult();
        Assert.Equal(["data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}", "data: [DONE]"], await reader.ReadToEndAsync());
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task Relay_ClientLeaves_BackendRequestCancelled()
    {
        var backendAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await StartBackendAsync(new TaskCompletionSource().Task, backendAborted);
        await using var edge = await StartEdgeAsync(backend.BaseAddress);

        var response = await edge.GetStreamAsync("/relay-extension");
        var reader = new StreamingEventReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadBlockAsync());
        response.Dispose();

        await backendAborted.Task.WaitAsync(StreamingEventReader.DefaultTimeout);
    }

    private static Task<TestApp> StartBackendAsync(Task release, TaskCompletionSource aborted)
        => TestApp.StartKestrelAsync(
            static _ => { },
            app => app.MapPost("/v1/chat/completions", async (HttpContext context) =>
            {
                context.RequestAborted.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), aborted);
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync("data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await release.WaitAsync(context.RequestAborted);
                await context.Response.WriteAsync("data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\ndata: [DONE]\n\n", context.RequestAborted);
            }));

    private static Task<TestApp> StartEdgeAsync(Uri backend)
    {
        var client = new HttpClient { BaseAddress = backend };
        return StreamingHost.StartAsync(app =>
        {
            app.Lifetime.ApplicationStopped.Register(client.Dispose);
            app.MapGet("/relay-extension", async (HttpContext context) =>
            {
                var upstream = await client.SendAsync(ChatRequest(), HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
                await context.Response.RelayEventStreamAsync(upstream, context.RequestAborted);
            }).WithStreaming();
            app.MapGet("/relay-result", async Task<IResult> (HttpContext context) =>
                EventStreamResults.Relay(await client.SendAsync(ChatRequest(), HttpCompletionOption.ResponseHeadersRead, context.RequestAborted)));
        });

        static HttpRequestMessage ChatRequest() => new(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{\"stream\":true}") };
    }
}
