using System.Buffers;

namespace AiEdge.Middleware.Redis.Internal;

internal sealed partial class RedisRateLimitStore
{
    /// <summary>
    /// One script call deciding several requests: it writes their already encoded keys and values into the
    /// connection's buffer, then hands each decision its part of the reply. Reused by the sender between calls.
    /// </summary>
    private sealed class DecisionCall(int capacity) : IRedisScriptArguments
    {
        private readonly PendingDecision[] _decisions = new PendingDecision[capacity];
        private long? _fixedNowMs;

        /// <summary>Gets the number of decisions in the call.</summary>
        public int DecisionCount { get; private set; }

        /// <summary>Gets the number of keys of every decision together.</summary>
        public int KeyCount { get; private set; }

        // Keys, the clock, the batch count, then per decision its item count and 6 values per item.
        int IRedisScriptArguments.Count => KeyCount + 2 + DecisionCount + KeyCount * 6;

        public void Add(PendingDecision decision)
        {
            _decisions[DecisionCount++] = decision;
            KeyCount += decision.KeyCount;
        }

        /// <summary>Leaves out the decisions already settled (their callers gave up); returns how many remain.</summary>
        public int RemoveSettled()
        {
            var kept = 0;
            KeyCount = 0;
            for (var i = 0; i < DecisionCount; i++)
            {
                var decision = _decisions[i];
                if (decision.IsSettled)
                {
                    decision.ReleaseBySender();
                    continue;
                }

                _decisions[kept++] = decision;
                KeyCount += decision.KeyCount;
            }

            Array.Clear(_decisions, kept, DecisionCount - kept);
            DecisionCount = kept;
            return kept;
        }

        /// <summary>Fixes the clock argument for this call (and its <c>EVAL</c> retry).</summary>
        public void FixNow(long? fixedNowMs) => _fixedNowMs = fixedNowMs;

        public void WriteTo(IBufferWriter<byte> writer)
        {
            for (var i = 0; i < DecisionCount; i++)
            {
                writer.Write(_decisions[i].Keys);
            }

            if (_fixedNowMs is { } now)
            {
                RespWriter.WriteBulkInteger(writer, now);
            }
            else
            {
                RespWriter.WriteEmpty(writer);
            }

            RespWriter.WriteBulkInteger(writer, DecisionCount);
            for (var i = 0; i < DecisionCount; i++)
            {
                writer.Write(_decisions[i].Values);
            }
        }

        /// <summary>Settles every decision from the script's reply; <see langword="false"/> (nothing settled) when the reply is malformed.</summary>
        public bool TryComplete(RedisValue reply)
        {
            if (reply.Type != RespType.Array || reply.Items!.Length != KeyCount * 5 + DecisionCount)
            {
                return false;
            }

            var items = reply.Items;
            foreach (var item in items)
            {
                if (item.Type != RespType.Integer)
                {
                    return false;
                }
            }

            var offset = 0;
            for (var i = 0; i < DecisionCount; i++)
            {
                offset = _decisions[i].Complete(items, offset);
            }

            Clear();
            return true;
        }

        /// <summary>Settles every decision by the failure mode.</summary>
        public void Fail(RedisConnectionException error)
        {
            for (var i = 0; i < DecisionCount; i++)
            {
                _decisions[i].Fail(error);
            }

            Clear();
        }

        private void Clear()
        {
            for (var i = 0; i < DecisionCount; i++)
            {
                _decisions[i].ReleaseBySender();
            }

            Array.Clear(_decisions, 0, DecisionCount);
            DecisionCount = 0;
            KeyCount = 0;
        }
    }
}
