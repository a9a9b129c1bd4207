using System.Text.Json;
using AiEdge.Middleware;
using AiEdge.Middleware.Resilience;

namespace AiEdge.Samples.ModelApi;

/// <summary>
/// Chat completions forwarded to an OpenAI-compatible backend when <c>ModelBackend:BaseUrl</c> is set: one URL,
/// or several (a comma-separated list or a JSON array) forming a pool. Calls go through the Resilience package's
/// <see cref="ModelBackendClient"/>, a typed client of <c>IHttpClientFactory</c>: the resilience handler of
/// <c>Microsoft.Extensions.Http.Resilience</c> (total timeout, safe retries), a circuit breaker and attempt timeout
/// per replica, least-loaded replica selection, and 502/503/504 problem answers when the backend fails. A streamed
/// answer is relayed event by event as it arrives. A chat completion is a POST: it is retried on another replica only
/// when the caller sent an <c>Idempotency-Key</c>, which is passed on to the backend, and never once an answer began.
/// </summary>
public static class BackendChat
{
    /// <summary>The name of the sample's backend pool (and of its breaker settings under <c>AiEdge:Resilience</c>).</summary>
    public const string BackendName = "model";

    private const string Key = "ModelBackend:BaseUrl";
    private const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>
    /// Adds the backend pool <c>model</c> and its typed client, configured from <c>ModelBackend:BaseUrl</c> when the
    /// application starts (so any configuration source counts). A base URL is the OpenAI SDK's <c>base_url</c>,
    /// e.g. <c>http://gpu-a:8000/v1</c>. Breaker settings may be tuned under <c>AiEdge:Resilience:Breakers:model</c>.
    /// </summary>
    public static IAiEdgeBuilder AddSampleModelBackend(this IAiEdgeBuilder edge)
    {
        edge.AddResilience();
        edge.Services.AddOptions<ResilienceOptions>().Configure<IConfiguration>(static (options, configuration) =>
        {
            var urls = ReadBaseUrls(configuration.GetSection(Key));
            if (urls.Count == 0 || options.Backends.ContainsKey(BackendName))
            {
                return;
            }

            var backend = new BackendOptions();
            foreach (var url in urls)
            {
                backend.Replicas.Add(new BackendReplicaOptions { Url = url });
            }

            options.Backends[BackendName] = backend;
        });
        return edge.AddModelBackendClient(BackendName);
    }

    /// <summary>Gets the backend client when <c>ModelBackend:BaseUrl</c> is set, else <see langword="null"/> (built-in generator).</summary>
    public static ModelBackendClient? Find(HttpContext context)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ResilienceOptions>>().Value;
        return options.Backends.ContainsKey(BackendName) ? services.GetRequiredService<ModelBackendClient>() : null;
    }

    /// <summary>
    /// Validates the body as JSON and answers with the backend's response: relayed as it arrives, or a problem
    /// answer of the pool (503 with <c>Retry-After</c> while every replica's breaker is open, 502, 504).
    /// </summary>
    public static async Task<IResult> ForwardAsync(HttpContext context, ModelBackendClient backend)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        try
        {
            using var document = JsonDocument.Parse(body.GetBuffer().AsMemory(0, (int)body.Length));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Problems.BadRequest("The body must be a JSON object.");
            }
        }
        catch (JsonException)
        {
            return Problems.BadRequest("The body is not valid JSON.");
        }

        var content = new ByteArrayContent(body.GetBuffer(), 0, (int)body.Length);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var idempotencyKey = context.Request.Headers[IdempotencyKeyHeader].ToString();
        return new ForwardResult(backend, content, idempotencyKey.Length > 0 ? idempotencyKey : null);
    }

    internal static List<string> ReadBaseUrls(IConfigurationSection section)
    {
        var urls = new List<string>();
        if (!string.IsNullOrWhiteSpace(section.Value))
        {
            urls.AddRange(section.Value.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        foreach (var child in section.GetChildren())
        {
            if (!string.IsNullOrWhiteSpace(child.Value))
            {
                urls.Add(child.Value.Trim());
            }
        }

        for (var i = 0; i < urls.Count; i++)
        {
            if (!Uri.TryCreate(urls[i], UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new InvalidOperationException(Key + " must be an absolute http or https URL or a list of them; '" + urls[i] + "' is not.");
            }
        }

        return urls;
    }

    private sealed class ForwardResult(ModelBackendClient backend, HttpContent content, string? idempotencyKey) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("chat/completions", UriKind.Relative)) { Content = content };

            // The body is buffered, so it can be sent again; with the caller's key the backend can deduplicate it,
            // which is what makes the client's resilience handler retry the POST on another replica.
            if (idempotencyKey is not null)
            {
                request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, idempotencyKey);
            }
            HttpResponseMessage response;
            try
            {
                response = await backend.SendAsync(request, httpContext.RequestAborted);
            }
            catch (OperationCanceledException) when (httpContext.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            // One relay for every answer: a token stream is relayed event by event and flushed as it arrives; a
            // backend that breaks it mid-stream ends the client's stream the documented way (docs/streaming.md).
            using (response)
            {
                await ModelBackendClient.RelayAsync(httpContext, response);
            }
        }
    }
}
