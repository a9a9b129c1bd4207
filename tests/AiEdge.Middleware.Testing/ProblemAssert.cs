using System.Net;
using System.Text.Json;
using Xunit;

namespace AiEdge.Middleware.Testing;

/// <summary>Assertions on RFC 9457 problem details responses.</summary>
public static class ProblemAssert
{
    /// <summary>Asserts <paramref name="response"/> is an <c>application/problem+json</c> body with <paramref name="status"/>, and returns it.</summary>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement.Clone();
        Assert.Equal((int)status, root.GetProperty("status").GetInt32());
        return root;
    }
}
