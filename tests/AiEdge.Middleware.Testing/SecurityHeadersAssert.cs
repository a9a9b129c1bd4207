using Xunit;

namespace AiEdge.Middleware.Testing;

/// <summary>Assertions on the security headers every AiEdge response carries.</summary>
public static class SecurityHeadersAssert
{
    /// <summary>The API preset, header by header.</summary>
    public static readonly IReadOnlyDictionary<string, string> ApiPreset = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["X-Content-Type-Options"] = "nosniff",
        ["X-Frame-Options"] = "DENY",
        ["Referrer-Policy"] = "no-referrer",
        ["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'",
        ["Cross-Origin-Opener-Policy"] = "same-origin",
        ["Cross-Origin-Resource-Policy"] = "same-origin",
        ["Permissions-Policy"] = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()",
    };

    /// <summary>
    /// Asserts the response carries the API preset once each, no <c>Server</c> header, and HSTS exactly when
    /// <paramref name="https"/> is set.
    /// </summary>
    public static void HasApiPreset(HttpResponseMessage response, bool https = false)
    {
        ArgumentNullException.ThrowIfNull(response);
        foreach (var (name, expected) in ApiPreset)
        {
            Assert.True(response.Headers.TryGetValues(name, out var values), $"{name} is missing on a {(int)response.StatusCode} response.");
            Assert.Equal([expected], values);
        }

        Assert.False(response.Headers.Contains("Server"), $"A Server header was sent on a {(int)response.StatusCode} response: {string.Join(",", response.Headers.Server)}");
        if (https)
        {
            Assert.True(response.Headers.TryGetValues("Strict-Transport-Security", out var hsts), "Strict-Transport-Security is missing on an HTTPS response.");
            Assert.Equal(["max-age=31536000; includeSubDomains"], hsts);
        }
        else
        {
            Assert.False(response.Headers.Contains("Strict-Transport-Security"), "Strict-Transport-Security was sent over plain HTTP.");
        }
    }

    /// <summary>Gets the single value of <paramref name="name"/>, or <see langword="null"/>.</summary>
    public static string? Single(HttpResponseMessage response, string name)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;
    }
}
