namespace AiEdge.Middleware.RateLimiting.Internal;

/// <summary>The monotonic millisecond clock rate-limit decisions are taken on.</summary>
internal static class RateLimitClock
{
    /// <summary>Gets <paramref name="time"/>'s monotonic timestamp in whole milliseconds.</summary>
    public static long NowMs(TimeProvider time)
    {
        var frequency = time.TimestampFrequency;
        var timestamp = time.GetTimestamp();
        return frequency % 1000 == 0 ? timestamp / (frequency / 1000) : (long)((Int128)timestamp * 1000 / frequency);
    }
}
