// The smallest AiEdge app: safe defaults (forwarded headers from loopback proxies, security headers,
// /healthz and /readyz, problem details for every error) in front of one endpoint.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddAiEdge();

var app = builder.Build();
app.UseAiEdge();

app.MapPost("/v1/predict", (PredictRequest request) => new { label = request.Input.Length % 2 == 0 ? "even" : "odd" });

app.Run();

/// <summary>The body of a prediction.</summary>
internal sealed record PredictRequest(string Input);
