using AiEdge.Middleware.Testing;
using Microsoft.Extensions.Logging;

namespace AiEdge.Samples.ModelApi.Tests;

/// <summary>
/// Runs the model API sample as a black box. Configuration overrides use the contract's keys, e.g.
/// <c>["Sample:TokenDelayMs"] = "0"</c>; a logger provider, when given, receives everything the sample logs.
/// </summary>
public sealed class ModelApiFactory(IDictionary<string, string?>? settings = null, ILoggerProvider? logs = null)
    : SampleAppFactory<Program>(settings, logs);
