using Microsoft.Extensions.Options;
using Xunit;

namespace AiEdge.Middleware.Testing;

/// <summary>Asserts that a host refuses to start on configuration its options validation rejects.</summary>
public static class StartupAssert
{
    /// <summary>
    /// Asserts that <paramref name="start"/> fails with an <see cref="OptionsValidationException"/> whose message
    /// contains <paramref name="expected"/> (typically the configuration key and what is wrong with it).
    /// </summary>
    /// <param name="start">Starts the host (a <see cref="TestApp"/> or a project's own).</param>
    /// <param name="expected">Text the failure must contain, compared ordinally.</param>
    /// <returns>The failure, for further assertions.</returns>
    public static async Task<OptionsValidationException> FailsAsync(Func<Task> start, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(start);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        return error;
    }
}
