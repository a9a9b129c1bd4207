using System.Diagnostics.Metrics;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// The instruments several packages report on. A <see cref="Meter"/> returns the instrument it already holds when one
/// of the same kind, name, unit, description and tags is created again, and <see cref="IMeterFactory"/> returns one
/// meter per name, so every package that creates these from the one definition here shares one instrument: a listener
/// sees one series, whichever package reported.
/// </summary>
internal static class SharedInstruments
{
    /// <summary>Creates (or gets) <c>aiedge.rejections</c> on <paramref name="meter"/>.</summary>
    public static Counter<long> Rejections(Meter meter)
        => meter.CreateCounter<long>("aiedge.rejections", "{request}", "Requests refused by a concern other than rate limiting (authentication, body limit, CORS, forwarded headers), by concern and reason.");

    /// <summary>Creates (or gets) <c>aiedge.client.disconnects</c> on <paramref name="meter"/>.</summary>
    public static Counter<long> ClientDisconnects(Meter meter)
        => meter.CreateCounter<long>("aiedge.client.disconnects", "{request}", "Requests whose client went away before the response completed.");

    /// <summary>Creates (or gets) <c>aiedge.backend.broken_streams</c> on <paramref name="meter"/>.</summary>
    public static Counter<long> BackendBrokenStreams(Meter meter)
        => meter.CreateCounter<long>("aiedge.backend.broken_streams", "{stream}", "Backend responses whose body broke after the headers arrived, by breaker and replica.");

    /// <summary>The suite's meter, from <paramref name="meterFactory"/> (one per factory and name).</summary>
    public static Meter Meter(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        return meterFactory.Create(AiEdgeDiagnostics.MeterName);
    }
}
