using System.Text;
using Microsoft.AspNetCore.Http;

namespace AiEdge.Middleware.Core.Tests;

public sealed class AiEdgeProblemsTests
{
    [Fact]
    public async Task WriteBackendStreamBrokenEvent_WritesOneOpenAiErrorEvent_EndedByABlankLine()
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;

        await AiEdgeProblems.WriteBackendStreamBrokenEventAsync(context.Response);

        Assert.Equal(
            "event: error\ndata: {\"error\":{\"message\":\"The model backend broke the stream.\",\"type\":\"server_error\",\"code\":\"backend_stream_broken\"}}\n\n",
            Encoding.UTF8.GetString(body.ToArray()));
    }
}
