using System.Net;
using System.Text;
using System.Text.Json;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>Prediction caching and Idempotency-Key, driven from outside through the sample's contract.</summary>
public sealed class CachingAcceptanceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // The train tier allows 1r/m by default; a retry a moment later must reach the Idempotency-Key handling.
    private static readonly Dictionary<string, string?> RoomyTrainTier = new()
    {
        ["AiEdge:RateLimiting:Tiers:train:Rate"] = "10r/s",
        ["AiEdge:RateLimiting:Tiers:train:Burst"] = "10",
    };

    private static async Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(HttpClient client, string path, string json, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        var response = await client.SendAsync(request).WaitAsync(Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(Timeout);
        return (response, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string XCache(HttpResponseMessage response)
        => response.Headers.TryGetValues("X-Cache", out var values) ? string.Join(",", values) : "";

    [Fact]
    public async Task Predict_RepeatedIdenticalRequest_IsHitWithTheSameInvocationAndNoAge()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();
        var input = "cache " + Guid.NewGuid().ToString("n") + " great";

        var first = await PostAsync(client, "/v1/predict", JsonSerializer.Serialize(new { model = "m", input }));
        var second = await PostAsync(client, "/v1/predict", JsonSerializer.Serialize(new { model = "m", input }));

        Assert.Equal(HttpStatusCode.OK, second.Response.StatusCode);
        Assert.Equal("MISS", XCache(first.Response));
        Assert.Equal("HIT", XCache(second.Response));
        Assert.Equal(first.Body.GetProperty("invocation").GetString(), second.Body.GetProperty("invocation").GetString());
        Assert.False(second.Response.Headers.Contains("Age"));
    }

    [Fact]
    public async Task Predict_KeyOrderAndWhitespace_StillHit()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();
        var input = "order " + Guid.NewGuid().ToString("n");

        var first = await PostAsync(client, "/v1/predict", "{\"model\":\"m\",\"input\":\"" + input + "\"}");
        var reordered = await PostAsync(client, "/v1/predict", "{\n  \"input\" : \"" + input + "\",\n  \"model\" : \"m\"\n}\n");

        Assert.Equal("HIT", XCache(reordered.Response));
        Assert.Equal(first.Body.GetProperty("invocation").GetString(), reordered.Body.GetProperty("invocation").GetString());
    }

    [Fact]
    public async Task Predict_DifferentInput_IsMiss()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        var first = await PostAsync(client, "/v1/predict", JsonSerializer.Serialize(new { model = "m", input = "a " + Guid.NewGuid() }));
        var other = await PostAsync(client, "/v1/predict", JsonSerializer.Serialize(new { model = "m", input = "b " + Guid.NewGuid() }));

        Assert.Equal("MISS", XCache(other.Response));
        Assert.NotEqual(first.Body.GetProperty("invocation").GetString(), other.Body.GetProperty("invocation").GetString());
    }

    [Theory]
    [InlineData("{\"model\":\"m\",\"input\":\"INPUT_A\",\"Input\":\"INPUT_B\"}", "{\"model\":\"m\",\"Input\":\"INPUT_B\",\"input\":\"INPUT_A\"}")]
    [InlineData("{\"model\":\"m\",\"input\":\"INPUT_A\",\"\\u0069nput\":\"INPUT_B\"}", "{\"model\":\"m\",\"\\u0069nput\":\"INPUT_B\",\"input\":\"INPUT_A\"}")]
    public async Task Predict_RepeatedMemberInEitherOrder_Is400ProblemNeverAnotherInputsAnswer(string json, string reordered)
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();
        var id = Guid.NewGuid().ToString("n");

        // A terrible input and a great one: the model would answer them differently.
        var first = await PostAsync(client, "/v1/predict", json.Replace("INPUT_A", "great " + id).Replace("INPUT_B", "terrible " + id));
        var second = await PostAsync(client, "/v1/predict", reordered.Replace("INPUT_A", "great " + id).Replace("INPUT_B", "terrible " + id));

        foreach (var (response, body) in new[] { first, second })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Duplicate JSON member name", body.GetProperty("title").GetString());
        }
    }

    [Fact]
    public async Task Train_IsNeverCached()
    {
        await using var factory = new ModelApiFactory(RoomyTrainTier);
        using var client = factory.CreateClient();

        var first = await PostAsync(client, "/v1/train", "{\"dataset\":\"d\"}");

        Assert.Equal(HttpStatusCode.Accepted, first.Response.StatusCode);
        Assert.False(first.Response.Headers.Contains("X-Cache"));
    }

    [Fact]
    public async Task Train_IdempotencyKeyRetry_ReturnsTheSameJob()
    {
        await using var factory = new ModelApiFactory(RoomyTrainTier);
        using var client = factory.CreateClient();
        var key = "\"" + Guid.NewGuid().ToString("n") + "\"";

        var first = await PostAsync(client, "/v1/train", "{\"dataset\":\"d\"}", key);
        var retry = await PostAsync(client, "/v1/train", "{\"dataset\":\"d\"}", key);

        Assert.Equal(HttpStatusCode.Accepted, retry.Response.StatusCode);
        Assert.Equal(first.Body.GetProperty("job").GetString(), retry.Body.GetProperty("job").GetString());
        Assert.Equal("true", retry.Response.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task Train_IdempotencyKeyWithAnotherPayload_Is422Problem()
    {
        await using var factory = new ModelApiFactory(RoomyTrainTier);
        using var client = factory.CreateClient();
        var key = "\"" + Guid.NewGuid().ToString("n") + "\"";

        await PostAsync(client, "/v1/train", "{\"dataset\":\"d\"}", key);
        var other = await PostAsync(client, "/v1/train", "{\"dataset\":\"other\"}", key);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.Response.StatusCode);
        Assert.Equal("application/problem+json", other.Response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Train_MalformedIdempotencyKey_Is400Problem()
    {
        await using var factory = new ModelApiFactory(RoomyTrainTier);
        using var client = factory.CreateClient();

        var response = await PostAsync(client, "/v1/train", "{\"dataset\":\"d\"}", "not-a-structured-string");

        Assert.Equal(HttpStatusCode.BadRequest, response.Response.StatusCode);
        Assert.Equal("application/problem+json", response.Response.Content.Headers.ContentType?.MediaType);
    }
}
