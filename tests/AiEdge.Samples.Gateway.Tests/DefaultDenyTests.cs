using System.Net;
using System.Text;

namespace AiEdge.Samples.Gateway.Tests;

/// <summary>Only the routes the sample lists reach a backend: vLLM's administrative endpoints stay unreachable.</summary>
public sealed class DefaultDenyTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("POST", "/pause")]
    [InlineData("POST", "/resume")]
    [InlineData("POST", "/abort_requests")]
    [InlineData("POST", "/invocations")]
    [InlineData("GET", "/metrics")]
    [InlineData("GET", "/health")]
    [InlineData("POST", "/v1/load_lora_adapter")]
    [InlineData("GET", "/v1/chat/completions")]
    [InlineData("DELETE", "/v1/models")]
    public async Task Unlisted_path_or_method_reaches_no_backend(string method, string path)
    {
        var before = fixture.VllmRequests.Count() + fixture.Qdrant.Requests.Count;
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        request.Headers.Add("X-API-Key", GatewayFactory.TeamAKey);

        using var response = await fixture.Client.SendAsync(request).WaitAsync(Timeout);

        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, path + " answered " + (int)response.StatusCode);
        Assert.Equal(before, fixture.VllmRequests.Count() + fixture.Qdrant.Requests.Count);
    }
}
