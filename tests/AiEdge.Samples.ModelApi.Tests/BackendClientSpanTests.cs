using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>
/// The sample's calls to its model backend (<c>ModelBackend:BaseUrl</c>) go through <c>IHttpClientFactory</c> and
/// <c>SocketsHttpHandler</c>, so each appears as a client span of System.Net.Http with the OpenTelemetry HTTP
/// semantic-convention attributes (what <c>OpenTelemetry.Instrumentation.Http</c> or any listener exports).
/// </summary>
public sealed class BackendClientSpanTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Backend_call_is_a_client_span_with_semantic_convention_attributes()
    {
        await using var backend = await FakeModelBackend.StartAsync();
        var port = backend.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == "System.Net.Http",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("server.port")?.ToString() == port)
                {
                    spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1" });
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "m", messages = new[] { new { role = "user", content = "hi" } } }).WaitAsync(Wait);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = Assert.Single(spans, s => s.GetTagItem("url.full")?.ToString()?.EndsWith("/v1/chat/completions", StringComparison.Ordinal) == true);
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal("POST", span.GetTagItem("http.request.method"));
        Assert.Equal(backend.BaseAddress.Host, span.GetTagItem("server.address"));
        Assert.Equal(200, Convert.ToInt32(span.GetTagItem("http.response.status_code"), System.Globalization.CultureInfo.InvariantCulture));
    }
}
