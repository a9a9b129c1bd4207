namespace AiEdge.Middleware.Testing;

/// <summary>Where the tests' fake clocks (<c>FakeTimeProvider</c>) start.</summary>
public static class TestClock
{
    /// <summary>The instant a test clock starts at unless a test names another: 2026-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
}
