using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Middleware.Consumer.Tests;

/// <summary>
/// The <c>web</c> template app with its own JwtBearer (no default scheme), rate limiter, output cache, health checks,
/// OpenTelemetry and OpenAPI, and AiEdge beside them, from the packed packages.
/// </summary>
[Collection(ConsumerAppsCollection.Name)]
public sealed class WebTemplateAppTests(ConsumerApps apps)
{
    [Fact]
    public async Task Predict_CachesAndLimitsOnTheFirstRun()
    {
        var app = await apps.RunningWebAsync();

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await app.Client.PostAsJsonAsync("/v1/predict", new { input = "abcd" }));
        }

        Assert.Equal("MISS", Header(answers[0], "X-Cache"));
        Assert.Equal("HIT", Header(answers[1], "X-Cache"));
        Assert.Equal(HttpStatusCode.OK, answers[2].StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, answers[3].StatusCode);
        Assert.NotEmpty(Header(answers[3], "Retry-After"));
        Assert.StartsWith("\"predict\";r=0", Header(answers[3], "RateLimit"), StringComparison.Ordinal);
        Assert.StartsWith("\"predict\";r=", Header(answers[0], "RateLimit"), StringComparison.Ordinal);
        Assert.Equal("nosniff", Header(answers[0], "X-Content-Type-Options"));
        answers.ForEach(static answer => answer.Dispose());
    }

    // Found: the built-in limiter's 429 carried AiEdge's RateLimit field saying requests remain.
    [Fact]
    public async Task AppsOwnRateLimiter_RefusalCarriesNoAiEdgeRateLimitField()
    {
        var app = await apps.RunningWebAsync();

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 3; i++)
        {
            var response = await app.Client.GetAsync("/v1/app-limited");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
            else
            {
                Assert.StartsWith("\"wide\";r=", Header(response, "RateLimit"), StringComparison.Ordinal);
                response.Dispose();
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.False(refused!.Headers.Contains("RateLimit"));
        Assert.False(refused.Headers.Contains("RateLimit-Policy"));
        refused.Dispose();
    }

    // Found: with AiEdge:Redis:Configuration set, AiEdge replaced the app's IDistributedCache registration (its
    // InstanceName ignored), and AiEdge's keys carried its prefix twice (aiedge:dc:aiedge:cache:...).
    [Fact]
    public async Task AppsOwnRedisCache_StaysTheAppsAndAiEdgeKeysCarryOnePrefix()
    {
        await using var redis = await RedisServerFixture.StartAsync();
        using var app = await apps.Web.StartAsync(apps.IdpArgument(), "--App:Redis=" + redis.Configuration, "--AiEdge:Redis:Configuration=" + redis.Configuration);

        using var cached = await app.Client.PostAsync("/test/app-cache/app-key", content: null);
        Assert.Equal("Microsoft.Extensions.Caching.StackExchangeRedis.RedisCacheImpl the app's value", await cached.Content.ReadAsStringAsync());
        using var miss = await app.Client.PostAsJsonAsync("/v1/predict", new { input = "redis" });
        using var hit = await app.Client.PostAsJsonAsync("/v1/predict", new { input = "redis" });
        Assert.Equal("MISS", Header(miss, "X-Cache"));
        Assert.Equal("HIT", Header(hit, "X-Cache"));

        var keys = (await redis.CommandAsync("KEYS *")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("consumer:app-key", keys);
        Assert.Contains(keys, static key => key.StartsWith("consumer:aiedge:cache:", StringComparison.Ordinal));
        Assert.DoesNotContain(keys, static key => key.IndexOf("aiedge", StringComparison.Ordinal) != key.LastIndexOf("aiedge", StringComparison.Ordinal));
    }

    // Found: AddAuthentication().AddJwtBearer() without a default scheme plus AiEdge authentication answered 500.
    [Fact]
    public async Task RequireAuthorization_AppsJwtWithoutDefaultScheme_IsServed()
    {
        var app = await apps.RunningWebAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apps.Idp.Token(ConsumerApps.Audience));
        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task RequireAuthorization_WithoutCredentials_IsProblemWithSecurityHeaders()
    {
        var app = await apps.RunningWebAsync();

        using var response = await app.Client.GetAsync("/v1/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
    }

    // Found: a JwtBearer user with scope=predict got 401 from .RequireScopes("predict"); API keys read every bearer token.
    [Theory]
    [InlineData("predict", HttpStatusCode.OK)]
    [InlineData("generate", HttpStatusCode.Forbidden)]
    public async Task RequireScopes_AppsJwtScopes_Decide(string scope, HttpStatusCode expected)
    {
        var app = await apps.RunningWebAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/scoped");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apps.Idp.Token(ConsumerApps.Audience, new Dictionary<string, object> { ["scope"] = scope }));
        using var response = await app.Client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task RequireScopes_AiEdgeApiKey_IsServed()
    {
        var app = await apps.RunningWebAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/scoped");
        request.Headers.Add("X-API-Key", ConsumerApps.ApiKey);
        using var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AppsOutputCache_StillAnswers()
    {
        var app = await apps.RunningWebAsync();

        var first = await app.Client.GetStringAsync("/v1/app-cached");
        var second = await app.Client.GetStringAsync("/v1/app-cached");

        Assert.Equal(first, second);
    }

    // Found: /healthz and /readyz were middleware that ignored the app's checks and carried no http.route.
    [Fact]
    public async Task Readyz_IncludesTheAppsHealthChecks_AndProbesAreRoutedSpans()
    {
        var app = await apps.RunningWebAsync();

        using (var healthy = await app.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        }

        (await app.Client.PostAsync("/test/database/false", null)).Dispose();
        try
        {
            using var down = await app.Client.GetAsync("/readyz");
            using var live = await app.Client.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            (await app.Client.PostAsync("/test/database/true", null)).Dispose();
        }

        // The in-memory exporter receives a span once its response completed: look for a while.
        for (var attempt = 0; ; attempt++)
        {
            var spans = await app.Client.GetFromJsonAsync<JsonElement>("/test/spans");
            var routes = spans.EnumerateArray().Select(static span => span.GetProperty("route").GetString()).ToList();
            if (routes.Contains("/readyz") && routes.Contains("/healthz"))
            {
                break;
            }

            Assert.True(attempt < 50, "No server span with http.route /readyz and /healthz: " + spans);
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task OpenApiDocument_DeclaresTheProblemsOfEachConcern()
    {
        var app = await apps.RunningWebAsync();

        var document = await app.Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");

        AssertProblems(paths.GetProperty("/v1/predict").GetProperty("post"), "429");
        AssertProblems(paths.GetProperty("/v1/scoped").GetProperty("get"), "401", "403");
        AssertProblems(paths.GetProperty("/v1/upload").GetProperty("post"), "413");
    }

    private static void AssertProblems(JsonElement operation, params string[] statuses)
    {
        var responses = operation.GetProperty("responses");
        foreach (var status in statuses)
        {
            Assert.True(responses.TryGetProperty(status, out var response), $"No {status} in {responses}");
            Assert.True(response.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{status} is not application/problem+json: {response}");
        }
    }

    private static string Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : string.Empty;
}
