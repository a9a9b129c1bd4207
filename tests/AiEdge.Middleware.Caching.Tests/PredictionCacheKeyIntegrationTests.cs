using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Caching.Tests;

/// <summary>
/// The key means exactly what the endpoint reads: bodies the JSON binding reads differently never share an entry,
/// and bodies that repeat a member name (which the binding reads by their order) are refused or bypass the cache.
/// </summary>
public sealed class PredictionCacheKeyIntegrationTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>The sample's predict request, bound by minimal APIs with the application's JSON options.</summary>
    private sealed record PredictBody(string? Model, string? Input, [property: JsonPropertyName("delay_ms")] int? DelayMs, PredictOptions? Options);

    private sealed record PredictOptions(string? Mode);

    /// <summary>Endpoints that echo what they read and count their runs.</summary>
    private sealed class Model
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public void Map(WebApplication app)
        {
            app.MapPost("/predict", Echo).WithPredictionCache();
            app.MapPost("/lenient", Echo).WithPredictionCache("lenient");
            app.MapPost("/raw", async (HttpRequest request) =>
            {
                Interlocked.Increment(ref _runs);
                using var reader = new StreamReader(request.Body, Encoding.UTF8);
                return Results.Json(new { invocation = Guid.NewGuid().ToString("n"), body = await reader.ReadToEndAsync() });
            }).WithPredictionCache();
        }

        private IResult Echo(PredictBody body)
        {
            Interlocked.Increment(ref _runs);
            return Results.Json(new { invocation = Guid.NewGuid().ToString("n"), input = body.Input, mode = body.Options?.Mode });
        }
    }

    private static Task<TestApp> StartAsync(Model model, Action<PredictionCacheOptions>? configure = null, Action<IServiceCollection>? services = null, IDictionary<string, string?>? configuration = null)
        => CachingHost.StartAsync(model.Map, cache: options =>
        {
            options.Anonymous = AnonymousCaching.Shared;
            options.Policies.TryAdd("lenient", new PredictionCachePolicy());
            configure?.Invoke(options);
        }, services: services, configuration: configuration);

    private static async Task<(HttpResponseMessage Response, JsonElement Body)> SendAsync(TestApp app, string path, string json)
        => await SendAsync(app, path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task<(HttpResponseMessage Response, JsonElement Body)> SendAsync(TestApp app, string path, HttpContent content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        var response = await app.Client.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
        var text = await response.Content.ReadAsStringAsync();
        return (response, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>The answer was computed for this body: what it echoes is what the binding reads from <paramref name="json"/>.</summary>
    private static void AssertAnsweredFor(string json, (HttpResponseMessage Response, JsonElement Body) answer)
    {
        Assert.Equal(HttpStatusCode.OK, answer.Response.StatusCode);
        var read = JsonSerializer.Deserialize<PredictBody>(json, Web)!;
        Assert.Equal(read.Input, answer.Body.GetProperty("input").GetString());
        Assert.Equal(read.Options?.Mode, answer.Body.GetProperty("mode").GetString());
    }

    private static void AssertDuplicateProblem((HttpResponseMessage Response, JsonElement Body) answer)
    {
        Assert.Equal(HttpStatusCode.BadRequest, answer.Response.StatusCode);
        Assert.Equal("application/problem+json", answer.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Duplicate JSON member name", answer.Body.GetProperty("title").GetString());
        Assert.Equal(400, answer.Body.GetProperty("status").GetInt32());
        Assert.Contains("RFC 7493", answer.Body.GetProperty("detail").GetString());
        Assert.StartsWith("https://", answer.Body.GetProperty("type").GetString());
        Assert.Equal("", CachingHost.XCache(answer.Response));
    }

    public static TheoryData<string, string> RepeatedMembers => new()
    {
        // Two spellings of one member, in both orders: a case variant, an escaped name, an exact repeat.
        { """{"input":"good","Input":"awful"}""", """{"Input":"awful","input":"good"}""" },
        { """{"input":"good","INPUT":"awful"}""", """{"INPUT":"awful","input":"good"}""" },
        { """{"input":"good","\u0069nput":"awful"}""", """{"\u0069nput":"awful","input":"good"}""" },
        { """{"input":"good","\u0049NPUT":"awful"}""", """{"\u0049NPUT":"awful","input":"good"}""" },
        { """{"input":"good","input":"awful"}""", """{"input":"awful","input":"good"}""" },

        // Deeper: a nested object, objects inside an array.
        { """{"input":"x","options":{"mode":"fast","Mode":"slow"}}""", """{"input":"x","options":{"Mode":"slow","mode":"fast"}}""" },
        { """{"input":"x","options":{"mode":"fast"},"history":[{"role":"user"},{"role":"a","ROLE":"b"}]}""", """{"input":"x","options":{"mode":"fast"},"history":[{"role":"user"},{"ROLE":"b","role":"a"}]}""" },
    };

    [Theory]
    [MemberData(nameof(RepeatedMembers))]
    public async Task RepeatedMemberName_IsRefusedWithProblemDetails_AndTheEndpointNeverRuns(string json, string reordered)
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        AssertDuplicateProblem(await SendAsync(app, "/predict", json));
        AssertDuplicateProblem(await SendAsync(app, "/predict", reordered));

        Assert.Equal(0, model.Runs);
    }

    [Theory]
    [MemberData(nameof(RepeatedMembers))]
    public async Task RepeatedMemberName_WithBypass_RunsTheEndpointForEachOrder(string json, string reordered)
    {
        var model = new Model();
        await using var app = await StartAsync(model, static options => options.DuplicateMembers = DuplicateJsonMembers.Bypass);

        var first = await SendAsync(app, "/predict", json);
        var second = await SendAsync(app, "/predict", reordered);
        var again = await SendAsync(app, "/predict", json);

        AssertAnsweredFor(json, first);
        AssertAnsweredFor(reordered, second);
        AssertAnsweredFor(json, again);
        Assert.Equal("BYPASS", CachingHost.XCache(first.Response));
        Assert.Equal("BYPASS", CachingHost.XCache(second.Response));
        Assert.Equal("BYPASS", CachingHost.XCache(again.Response));
        Assert.Equal(3, model.Runs);
    }

    [Fact]
    public async Task RepeatedMemberName_PolicyFromConfiguration_OverridesTheDefault()
    {
        var model = new Model();
        await using var app = await StartAsync(model, configuration: new Dictionary<string, string?>
        {
            ["AiEdge:Caching:Policies:lenient:DuplicateMembers"] = "Bypass",
        });
        const string Json = """{"input":"good","Input":"awful"}""";

        var strict = await SendAsync(app, "/predict", Json);
        var lenient = await SendAsync(app, "/lenient", Json);

        AssertDuplicateProblem(strict);
        AssertAnsweredFor(Json, lenient);
        Assert.Equal("BYPASS", CachingHost.XCache(lenient.Response));
    }

    [Fact]
    public async Task CaseSensitiveJsonBinding_CaseVariantsAreDistinctMembers_EscapedRepeatsAreNot()
    {
        var model = new Model();
        await using var app = await StartAsync(
            model,
            services: static services => services.ConfigureHttpJsonOptions(static json => json.SerializerOptions.PropertyNameCaseInsensitive = false));
        const string Json = """{"input":"good","Input":"awful"}""";
        const string Reordered = """{"Input":"awful","input":"good"}""";

        var first = await SendAsync(app, "/predict", Json);
        var second = await SendAsync(app, "/predict", Reordered);
        var escaped = await SendAsync(app, "/predict", """{"input":"good","\u0069nput":"awful"}""");

        // This binding reads only "input" from both, so one entry serves both.
        Assert.Equal("good", first.Body.GetProperty("input").GetString());
        Assert.Equal("HIT", CachingHost.XCache(second.Response));
        Assert.Equal("good", second.Body.GetProperty("input").GetString());
        AssertDuplicateProblem(escaped);
    }

    [Fact]
    public async Task DocumentsTheFirstEncodingWroteAsOne_AreDifferentEntries()
    {
        var model = new Model();
        await using var app = await StartAsync(model);

        var first = await SendAsync(app, "/raw", JsonCanonicalizerTests.PrefixAmbiguousLeft);
        var second = await SendAsync(app, "/raw", JsonCanonicalizerTests.PrefixAmbiguousRight);

        Assert.Equal("MISS", CachingHost.XCache(second.Response));
        Assert.Equal(JsonCanonicalizerTests.PrefixAmbiguousLeft, first.Body.GetProperty("body").GetString());
        Assert.Equal(JsonCanonicalizerTests.PrefixAmbiguousRight, second.Body.GetProperty("body").GetString());
        Assert.Equal(2, model.Runs);
    }

    [Fact]
    public async Task SameBytesInAnotherCharset_AreADifferentEntry()
    {
        var model = new Model();
        await using var app = await StartAsync(model);
        var bytes = Encoding.UTF8.GetBytes("""{"input":"café"}""");

        var utf8 = await SendAsync(app, "/predict", Content(bytes, "application/json; charset=utf-8"));
        var latin1 = await SendAsync(app, "/predict", Content(bytes, "application/json; charset=iso-8859-1"));
        var escaped = await SendAsync(app, "/predict", Content(Encoding.UTF8.GetBytes("""{"input":"caf\u00e9"}"""), "application/json; charset=iso-8859-1"));

        Assert.Equal("café", utf8.Body.GetProperty("input").GetString());
        Assert.Equal("MISS", CachingHost.XCache(latin1.Response));
        Assert.Equal(Encoding.Latin1.GetString(Encoding.UTF8.GetBytes("café")), latin1.Body.GetProperty("input").GetString());

        // Outside UTF-8 the body is keyed on its bytes: an escape no longer equals the character it would be in UTF-8.
        Assert.Equal("MISS", CachingHost.XCache(escaped.Response));
        Assert.Equal("café", escaped.Body.GetProperty("input").GetString());
        Assert.Equal(3, model.Runs);
    }

    [Fact]
    public async Task ExcludedField_SpelledWithEscapesOrAnotherCase_IsExcludedAsTheBindingReadsIt()
    {
        var model = new Model();
        await using var app = await StartAsync(model, static options => options.ExcludedJsonFields.Add("user"));

        var first = await SendAsync(app, "/predict", """{"input":"x","user":"alice"}""");
        var escaped = await SendAsync(app, "/predict", """{"\u0075ser":"bob","input":"x"}""");
        var upper = await SendAsync(app, "/predict", """{"USER":"carol","input":"x"}""");
        var nested = await SendAsync(app, "/predict", """{"input":"x","options":{"user":"dave"}}""");
        var repeated = await SendAsync(app, "/predict", """{"input":"x","user":"erin","User":"frank"}""");

        Assert.Equal("MISS", CachingHost.XCache(first.Response));
        Assert.Equal("HIT", CachingHost.XCache(escaped.Response));
        Assert.Equal("HIT", CachingHost.XCache(upper.Response));
        Assert.Equal("MISS", CachingHost.XCache(nested.Response));
        AssertDuplicateProblem(repeated);
    }

    private static ByteArrayContent Content(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }
}
