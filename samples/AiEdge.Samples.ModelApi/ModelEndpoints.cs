using System.Text.Json;

namespace AiEdge.Samples.ModelApi;

/// <summary>
/// The handlers of <c>POST /v1/predict</c> and <c>POST /v1/train</c>. The load benchmark's bare Kestrel app runs
/// these same handlers without AiEdge, so that the comparison measures the edge and nothing else.
/// </summary>
public static class ModelEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Runs the toy model on the request's <c>input</c>; 400 problem details for a malformed request.</summary>
    /// <param name="context">The request.</param>
    /// <param name="time">The clock <c>delay_ms</c> waits on.</param>
    /// <returns>The prediction.</returns>
    public static async Task<IResult> PredictAsync(HttpContext context, TimeProvider time)
    {
        PredictRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<PredictRequest>(context.Request.Body, Json, context.RequestAborted);
        }
        catch (JsonException)
        {
            return Problems.BadRequest("The body is not valid JSON.");
        }

        if (request is null || string.IsNullOrWhiteSpace(request.Input))
        {
            return Problems.BadRequest("'input' is required and must not be empty.");
        }

        if (request.DelayMs is < 0 or > 10_000)
        {
            return Problems.BadRequest("'delay_ms' must be from 0 to 10000.");
        }

        if (request.DelayMs is > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(request.DelayMs.Value), time, context.RequestAborted);
        }

        var (label, score) = ToyModel.Predict(request.Input);
        return Results.Ok(new PredictResponse(request.Model ?? "toy-sentiment", label, score, Guid.NewGuid().ToString("n")));
    }

    /// <summary>Accepts any JSON body as a training job; 400 problem details for malformed JSON.</summary>
    /// <param name="request">The request.</param>
    /// <returns>202 with the job's id.</returns>
    public static async Task<IResult> TrainAsync(HttpRequest request)
    {
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            return Problems.BadRequest("The body is not valid JSON.");
        }

        return Results.Accepted(value: new { job = Guid.NewGuid().ToString("n") });
    }
}
