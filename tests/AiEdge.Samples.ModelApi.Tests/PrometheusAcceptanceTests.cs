using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AiEdge.Middleware.Testing;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>
/// The Prometheus scrape endpoint against a real Prometheus server: two sample replicas (one with the built-in
/// generator and in-memory state, one behind a failing model backend with Redis that then dies) take traffic touching
/// every concern the Grafana dashboard shows, a <c>prometheus</c> process scrapes both every second, and every query
/// of <c>docs/grafana-dashboard.json</c> must return at least one series.
/// </summary>
/// <remarks>
/// Alone, never beside the other test classes: an OpenTelemetry meter provider subscribes meters by name, process-wide,
/// so it also binds the same-named AiEdge meters of every other sample host in the test process, and a metric it shares
/// with a host that another test disposes is dropped from its export.
/// </remarks>
[Collection(PrometheusAcceptanceTests.Collection)]
public sealed class PrometheusAcceptanceTests
{
    /// <summary>The collection that runs after the parallel ones, on its own.</summary>
    public const string Collection = "Prometheus scrape (alone)";

    private const string PrometheusPath = "/usr/bin/prometheus";
    private const string Job = "aiedge-sample";

    // Dashboard variables: Grafana's $__rate_interval is at least four scrape intervals; one minute covers 1 s scrapes.
    private const string RateInterval = "1m";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task MetricsEndpoint_IsAbsent_ByDefault()
    {
        await using var factory = new ModelApiFactory();
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/metrics").WaitAsync(Timeout);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task MetricsEndpoint_ServesPrometheusText_NeverRateLimitedOrCached()
    {
        await using var factory = new ModelApiFactory(new Dictionary<string, string?> { ["Sample:PrometheusEndpoint"] = "true" });
        using var client = factory.CreateClient();
        using (var predicted = await client.PostAsJsonAsync("/v1/predict", new { model = "m", input = "great" }).WaitAsync(Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        }

        // More scrapes than any tier's burst: none is refused, none carries rate-limit or cache headers.
        for (var i = 0; i < 30; i++)
        {
            using var response = await client.GetAsync("/metrics").WaitAsync(Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
            Assert.DoesNotContain(response.Headers, static h => h.Key.StartsWith("RateLimit", StringComparison.OrdinalIgnoreCase) || h.Key.StartsWith("X-Cache", StringComparison.OrdinalIgnoreCase));
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("aiedge_cache_requests_total{", text, StringComparison.Ordinal);
            Assert.Contains("http_server_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
            Assert.Contains("http_server_active_requests{", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EveryGrafanaDashboardQuery_ReturnsSeries_FromARealPrometheusScrapingTheSample()
    {
        Assert.True(File.Exists(PrometheusPath), $"The Prometheus server is not installed at {PrometheusPath}: run `apt-get install prometheus` (test.sh installs it).");
        var queries = DashboardQueries();
        Assert.NotEmpty(queries);

        await using var redis = await RedisServerFixture.StartAsync();
        await using var backend = await FakeModelBackend.StartAsync();
        backend.Mode = FakeBackendMode.Error;
        await using var local = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["Sample:PrometheusEndpoint"] = "true",
            ["Sample:TokenDelayMs"] = "0",
        });
        await using var shared = new ModelApiFactory(new Dictionary<string, string?>
        {
            ["Sample:PrometheusEndpoint"] = "true",
            ["Sample:TokenDelayMs"] = "0",
            ["ModelBackend:BaseUrl"] = backend.BaseAddress + "v1",
            ["AiEdge:Resilience:Breakers:model:MinimumThroughput"] = "2",
            ["AiEdge:Resilience:Breakers:model:BreakDuration"] = "00:01:00",
            ["AiEdge:Redis:Configuration"] = redis.Configuration,
            ["AiEdge:Redis:CommandTimeout"] = "00:00:02",
        });
        using var localClient = new HttpClient { BaseAddress = local.StartKestrel() };
        using var sharedClient = new HttpClient { BaseAddress = shared.StartKestrel() };

        await using var prometheus = PrometheusServer.Start(localClient.BaseAddress!, sharedClient.BaseAddress!);
        await prometheus.WaitUntilScrapedAsync(targets: 2);

        await DriveLocalReplicaAsync(localClient);
        await DriveSharedReplicaAsync(sharedClient, redis);

        // Counters need two scrapes after their first measurement before rate() has a point: poll until every query
        // answers, with a deadline.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        List<string> empty;
        while (true)
        {
            empty = [];
            foreach (var query in queries)
            {
                if (await prometheus.SeriesCountAsync(query) == 0)
                {
                    empty.Add(query);
                }
            }

            if (empty.Count == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(500);
        }

        Assert.True(empty.Count == 0, $"Dashboard queries without series:\n{string.Join('\n', empty)}\n\nMetric names Prometheus scraped:\n{await prometheus.MetricNamesAsync()}\n\nprometheus output:\n{prometheus.Output}");
    }

    /// <summary>In-memory state, built-in generator: cache misses, hits and coalescing, an Idempotency-Key replay, streams and token budgets, an authentication failure, a client that goes away, rate-limit rejections.</summary>
    private static async Task DriveLocalReplicaAsync(HttpClient client)
    {
        // Identical slow predictions in flight together: one runs the model, the others wait for it (coalesced).
        var identical = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PredictAsync(client, "{\"model\":\"m\",\"input\":\"same\",\"delay_ms\":500}"))).WaitAsync(Timeout);
        Assert.All(identical, static s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.OK, await PredictAsync(client, "{\"model\":\"m\",\"input\":\"same\",\"delay_ms\":500}"));

        for (var i = 0; i < 2; i++)
        {
            using var request = Post("/v1/predict", "{\"model\":\"m\",\"input\":\"once\"}");
            request.Headers.TryAddWithoutValidation("Idempotency-Key", "\"prometheus-replay\"");
            using var response = await client.SendAsync(request).WaitAsync(Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var stream = Post("/v1/chat/completions", "{\"model\":\"m\",\"stream\":true,\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"))
        using (var response = await client.SendAsync(stream).WaitAsync(Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("data: [DONE]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var refused = Post("/v1/predict", "{\"model\":\"m\",\"input\":\"who\"}"))
        {
            refused.Headers.Add("X-API-Key", "not-a-key");
            using var response = await client.SendAsync(refused).WaitAsync(Timeout);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        // A caller that gives up while the model still runs.
        using (var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Post("/v1/predict", "{\"model\":\"m\",\"input\":\"slow\",\"delay_ms\":5000}"), impatient.Token));
        }

        // More distinct predictions than the predict tier's burst: misses, then 429s.
        var burst = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => PredictAsync(client, "{\"model\":\"m\",\"input\":\"burst " + i + "\"}"))).WaitAsync(Timeout);
        Assert.Contains(HttpStatusCode.TooManyRequests, burst);
    }

    /// <summary>A failing backend behind the breaker, and Redis that serves, then dies (local fallbacks).</summary>
    private static async Task DriveSharedReplicaAsync(HttpClient client, RedisServerFixture redis)
    {
        Assert.Equal(HttpStatusCode.OK, await PredictAsync(client, "{\"model\":\"m\",\"input\":\"shared\"}"));
        Assert.Equal(HttpStatusCode.OK, await PredictAsync(client, "{\"model\":\"m\",\"input\":\"shared\"}"));

        var chat = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
        for (var i = 0; i < 2; i++)
        {
            using var failed = await client.SendAsync(Post("/v1/chat/completions", chat)).WaitAsync(Timeout);
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        }

        using (var open = await client.SendAsync(Post("/v1/chat/completions", chat)).WaitAsync(Timeout))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, open.StatusCode);
        }

        redis.Kill();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await PredictAsync(client, "{\"model\":\"m\",\"input\":\"without redis " + i + "\"}"));
        }
    }

    private static async Task<HttpStatusCode> PredictAsync(HttpClient client, string json)
    {
        using var response = await client.SendAsync(Post("/v1/predict", json)).WaitAsync(Timeout);
        return response.StatusCode;
    }

    private static HttpRequestMessage Post(string path, string json) =>
        new(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    /// <summary>Every <c>expr</c> of the dashboard, with its variables set: <c>$job</c> to the scrape job, <c>$__rate_interval</c> to one minute.</summary>
    private static List<string> DashboardQueries()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "docs", "grafana-dashboard.json")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory.FullName, "docs", "grafana-dashboard.json")));
        var queries = new List<string>();
        Collect(dashboard.RootElement, queries);
        return queries;

        static void Collect(JsonElement element, List<string> queries)
        {
            if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, queries);
                }
            }
            else if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        var query = property.Value.GetString()!
                            .Replace("${__rate_interval}", RateInterval, StringComparison.Ordinal)
                            .Replace("$__rate_interval", RateInterval, StringComparison.Ordinal)
                            .Replace("${job}", Job, StringComparison.Ordinal)
                            .Replace("$job", Job, StringComparison.Ordinal);
                        Assert.DoesNotContain("$", query, StringComparison.Ordinal);
                        queries.Add(query);
                    }
                    else
                    {
                        Collect(property.Value, queries);
                    }
                }
            }
        }
    }

    /// <summary>A <c>prometheus</c> process on a free loopback port, scraping the given apps every second into a temporary directory.</summary>
    private sealed class PrometheusServer : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _directory;
        private readonly HttpClient _api;
        private readonly StringBuilder _output = new();

        private PrometheusServer(Process process, string directory, Uri address)
        {
            _process = process;
            _directory = directory;
            _api = new HttpClient { BaseAddress = address };
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static PrometheusServer Start(params Uri[] apps)
        {
            var directory = Directory.CreateTempSubdirectory("aiedge-prometheus-").FullName;
            var targets = string.Join(", ", apps.Select(static a => "'" + a.Authority + "'"));
            File.WriteAllText(Path.Combine(directory, "prometheus.yml"), $"""
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: {Job}
                    metrics_path: /metrics
                    static_configs:
                      - targets: [{targets}]
                """);
            var port = Commands.FreePort();
            var start = new ProcessStartInfo(PrometheusPath)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("--config.file=" + Path.Combine(directory, "prometheus.yml"));
            start.ArgumentList.Add("--storage.tsdb.path=" + Path.Combine(directory, "data"));
            start.ArgumentList.Add("--web.listen-address=127.0.0.1:" + port);
            var process = Process.Start(start)!;
            var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}/"));
            process.OutputDataReceived += server.Append;
            process.ErrorDataReceived += server.Append;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return server;
        }

        /// <summary>Polls until <c>up</c> is 1 for <paramref name="targets"/> targets of the job.</summary>
        public async Task WaitUntilScrapedAsync(int targets)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (true)
            {
                Assert.False(_process.HasExited, "prometheus exited:\n" + Output);
                try
                {
                    if (await SeriesCountAsync($"up{{job=\"{Job}\"}} == 1") == targets)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                Assert.True(DateTime.UtcNow < deadline, "prometheus never scraped both replicas:\n" + Output);
                await Task.Delay(200);
            }
        }

        public async Task<int> SeriesCountAsync(string query)
        {
            using var response = await _api.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(query)).WaitAsync(Timeout);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.IsSuccessStatusCode, $"Prometheus refused the query {query}: {body}");
            return body.GetProperty("data").GetProperty("result").GetArrayLength();
        }

        public async Task<string> MetricNamesAsync()
        {
            var body = await _api.GetFromJsonAsync<JsonElement>("api/v1/label/__name__/values").WaitAsync(Timeout);
            return string.Join(' ', body.GetProperty("data").EnumerateArray().Select(static n => n.GetString()));
        }

        public async ValueTask DisposeAsync()
        {
            _api.Dispose();
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
            Directory.Delete(_directory, recursive: true);
        }

        private void Append(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(e.Data);
                }
            }
        }
    }
}

/// <summary>Runs <see cref="PrometheusAcceptanceTests"/> with no other test class in parallel.</summary>
[CollectionDefinition(PrometheusAcceptanceTests.Collection, DisableParallelization = true)]
public sealed class PrometheusAcceptanceCollection;
