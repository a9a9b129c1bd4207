namespace AiEdge.Middleware.RateLimiting.Tests;

/// <summary>
/// A literal model of NGINX's <c>ngx_http_limit_req_module</c> (handler, lookup, account) with its integer
/// arithmetic, written from the module's logic and independent of the product code. Expiry of zone nodes is left
/// out (it only runs when other keys arrive). Clock values must be large, as NGINX's are: a node created by a
/// non-final limit starts with <c>last = 0</c>.
/// </summary>
internal sealed class NginxLimitReqModel
{
    private const long NodelayValue = long.MaxValue / 1000 * 1000;

    public sealed class Zone(long count, bool perMinute)
    {
        public long Rate { get; } = count * 1000 / (perMinute ? 60 : 1);

        public Dictionary<string, Node> Nodes { get; } = [];

        public Node? Current { get; set; }
    }

    public sealed class Node
    {
        public long Excess;
        public long Last;
        public int Count;
    }

    /// <summary>A <c>limit_req zone=... burst=B [nodelay | delay=D]</c> line; <paramref name="delay"/> null = nodelay.</summary>
    public sealed record Limit(Zone Zone, long Burst, long? Delay)
    {
        public long BurstMilli => Burst * 1000;

        public long DelayMilli => Delay is { } d ? d * 1000 : NodelayValue;
    }

    /// <summary>Runs the handler for one request; returns whether it was rejected and the delay in ms.</summary>
    public static (bool Rejected, long DelayMs) Handle(IReadOnlyList<Limit> limits, string key, long now)
    {
        long excess = 0;
        var rc = Rc.Declined;
        var n = 0;
        for (; n < limits.Count; n++)
        {
            rc = Lookup(limits[n], key, ref excess, account: n == limits.Count - 1, now);
            if (rc != Rc.Again)
            {
                break;
            }
        }

        if (rc == Rc.Busy)
        {
            while (n-- > 0)
            {
                var zone = limits[n].Zone;
                if (zone.Current is null)
                {
                    continue;
                }

                zone.Current.Count--;
                zone.Current = null;
            }

            return (true, 0);
        }

        if (rc == Rc.Again)
        {
            excess = 0;
        }

        var limit = limits[n];
        return (false, Account(limits, n, ref excess, ref limit, now));
    }

    private enum Rc
    {
        Declined,
        Busy,
        Again,
        Ok,
    }

    private static Rc Lookup(Limit limit, string key, ref long ep, bool account, long now)
    {
        var zone = limit.Zone;
        if (zone.Nodes.TryGetValue(key, out var node))
        {
            var ms = now - node.Last;
            if (ms < -60000)
            {
                ms = 1;
            }
            else if (ms < 0)
            {
                ms = 0;
            }

            var excess = node.Excess - zone.Rate * ms / 1000 + 1000;
            if (excess < 0)
            {
                excess = 0;
            }

            ep = excess;
            if (excess > limit.BurstMilli)
            {
                return Rc.Busy;
            }

            if (account)
            {
                node.Excess = excess;
                if (ms != 0)
                {
                    node.Last = now;
                }

                return Rc.Ok;
            }

            node.Count++;
            zone.Current = node;
            return Rc.Again;
        }

        ep = 0;
        node = new Node { Excess = 0 };
        zone.Nodes[key] = node;
        if (account)
        {
            node.Last = now;
            node.Count = 0;
            return Rc.Ok;
        }

        node.Last = 0;
        node.Count = 1;
        zone.Current = node;
        return Rc.Again;
    }

    private static long Account(IReadOnlyList<Limit> limits, int n, ref long ep, ref Limit limit, long now)
    {
        var excess = ep;
        long maxDelay = excess <= limit.DelayMilli ? 0 : (excess - limit.DelayMilli) * 1000 / limit.Zone.Rate;
        while (n-- > 0)
        {
            var zone = limits[n].Zone;
            var node = zone.Current;
            if (node is null)
            {
                continue;
            }

            var ms = now - node.Last;
            if (ms < -60000)
            {
                ms = 1;
            }
            else if (ms < 0)
            {
                ms = 0;
            }

            excess = node.Excess - zone.Rate * ms / 1000 + 1000;
            if (excess < 0)
            {
                excess = 0;
            }

            if (ms != 0)
            {
                node.Last = now;
            }

            node.Excess = excess;
            node.Count--;
            zone.Current = null;
            if (excess <= limits[n].DelayMilli)
            {
                continue;
            }

            var delay = (excess - limits[n].DelayMilli) * 1000 / zone.Rate;
            if (delay > maxDelay)
            {
                maxDelay = delay;
                ep = excess;
                limit = limits[n];
            }
        }

        return maxDelay;
    }
}
