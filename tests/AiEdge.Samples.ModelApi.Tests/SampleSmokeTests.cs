using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

public sealed class SampleSmokeTests
{
    [Fact]
    public async Task Predict_ValidInput_AnswersLabelScoreAndInvocation()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/v1/predict", new { model = "m", input = "I love this great API" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("m", body.GetProperty("model").GetString());
        Assert.Equal("positive", body.GetProperty("label").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("invocation").GetString()));
    }

    [Theory]
    [InlineData("{\"model\":\"m\"}")]
    [InlineData("{\"model\":\"m\",\"input\":\"\"}")]
    [InlineData("{not json")]
    [InlineData("{\"input\":\"x\",\"delay_ms\":20000}")]
    public async Task Predict_BadBody_IsProblem400(string body)
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/v1/predict", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Train_AnswersAcceptedWithUniqueJob()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/v1/train", new { dataset = "d" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(body.GetProperty("job").GetString()));
    }

    [Fact]
    public async Task ChatCompletions_NotStreamed_CarriesUsage()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["Sample:TokenDelayMs"] = "0" });
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "toy", max_tokens = 5, messages = new[] { new { role = "user", content = "hello" } } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.Equal(5, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task ChatCompletions_Streamed_OverKestrel_EndsWithUsageThenDone()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["Sample:TokenDelayMs"] = "0" });
        var baseAddress = factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = baseAddress };

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "toy", stream = true, max_tokens = 3, messages = new[] { new { role = "user", content = "hi" } } })
            .WaitAsync(TimeSpan.FromSeconds(30));
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        using var usage = JsonDocument.Parse(events[^2]["data: ".Length..]);
        Assert.Equal(3, usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Client_ReportsTheCaller()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        var body = await client.GetFromJsonAsync<JsonElement>("/v1/client");

        Assert.Equal("http", body.GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task Healthz_Answers200()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
