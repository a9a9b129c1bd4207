using System.Buffers.Binary;
using System.Numerics;
using AiEdge.Middleware.RateLimiting;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

internal sealed partial class RedisRateLimitStore
{
    /// <summary>
    /// One script call deciding several requests. <see cref="Prepare"/> lists the call's distinct buckets (a hot
    /// bucket many requests share is one key) and distinct rules, and encodes each item as (key index, rule index,
    /// cost) into the call's <see cref="Keys"/> and <see cref="Arguments"/>; the reply hands each decision its part.
    /// Reused by the sender between calls; the key and argument arrays are new for each call, since a call that
    /// timed out may still be written by the client after the sender moved on.
    /// </summary>
    private sealed class DecisionCall(int capacity)
    {
        private const int PackedItemLength = 12;

        private readonly PendingDecision[] _decisions = new PendingDecision[capacity];
        private (PendingDecision Decision, int Item)[] _keys = new (PendingDecision, int)[64];
        private int[] _slots = new int[128];
        private int[] _itemKeys = new int[64];
        private int[] _itemRules = new int[64];
        private RateLimitRule[] _rules = new RateLimitRule[8];
        private int _keyCount;
        private int _ruleCount;

        /// <summary>Gets the number of decisions in the call.</summary>
        public int DecisionCount { get; private set; }

        /// <summary>Gets the number of items (rules) of every decision together.</summary>
        public int ItemCount { get; private set; }

        /// <summary>Gets the call's distinct keys, set by <see cref="Prepare"/>.</summary>
        public RedisKey[] Keys { get; private set; } = [];

        /// <summary>Gets the call's arguments, set by <see cref="Prepare"/>.</summary>
        public RedisValue[] Arguments { get; private set; } = [];

        public void Add(PendingDecision decision)
        {
            _decisions[DecisionCount++] = decision;
            ItemCount += decision.ItemCount;
        }

        /// <summary>Leaves out the decisions already settled (their callers gave up); returns how many remain.</summary>
        public int RemoveSettled()
        {
            var kept = 0;
            ItemCount = 0;
            for (var i = 0; i < DecisionCount; i++)
            {
                var decision = _decisions[i];
                if (decision.IsSettled)
                {
                    decision.ReleaseBySender();
                    continue;
                }

                _decisions[kept++] = decision;
                ItemCount += decision.ItemCount;
            }

            Array.Clear(_decisions, kept, DecisionCount - kept);
            DecisionCount = kept;
            return kept;
        }

        /// <summary>Lists the distinct keys and rules and encodes the arguments (once, for <c>EVALSHA</c> and its <c>EVAL</c> retry).</summary>
        public void Prepare(long? fixedNowMs)
        {
            if (_itemKeys.Length < ItemCount)
            {
                _itemKeys = new int[ItemCount];
                _itemRules = new int[ItemCount];
                _keys = new (PendingDecision, int)[ItemCount];
            }

            var slots = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, ItemCount * 2));
            if (_slots.Length < slots)
            {
                _slots = new int[slots];
            }

            Array.Fill(_slots, -1, 0, slots);
            _keyCount = 0;
            _ruleCount = 0;
            var index = 0;
            for (var d = 0; d < DecisionCount; d++)
            {
                var decision = _decisions[d];
                for (var i = 0; i < decision.ItemCount; i++)
                {
                    _itemKeys[index] = KeyIndex(decision, i, slots - 1);
                    _itemRules[index] = RuleIndex(decision.Rule(i));
                    index++;
                }
            }

            var keys = new RedisKey[_keyCount];
            for (var k = 0; k < _keyCount; k++)
            {
                var (decision, item) = _keys[k];
                keys[k] = decision.Key(item).ToArray();
            }

            var arguments = new RedisValue[4 + _ruleCount * 5];
            arguments[0] = fixedNowMs is { } now ? now : RedisValue.EmptyString;
            arguments[1] = DecisionCount;
            arguments[2] = _ruleCount;
            var at = 3;
            for (var r = 0; r < _ruleCount; r++)
            {
                var rule = _rules[r];
                arguments[at++] = rule.Unit == RateLimitUnit.Requests ? 0 : 1;
                arguments[at++] = rule.RateNumerator;
                arguments[at++] = rule.RateDenominator;
                arguments[at++] = rule.CapacityMilli;
                arguments[at++] = rule.NoDelay ? -1 : rule.DelayMilli;
            }

            // The batches, packed into one argument (the script's struct.unpack layout): per batch its item count,
            // per item its key index, rule index (from 1) and cost. Indexes fit 16 bits: a call holds at most
            // MaxItemsPerCall items unless one request's own rules are more.
            var packed = new byte[DecisionCount * 2 + ItemCount * PackedItemLength];
            var offset = 0;
            index = 0;
            for (var d = 0; d < DecisionCount; d++)
            {
                var decision = _decisions[d];
                BinaryPrimitives.WriteUInt16LittleEndian(packed.AsSpan(offset), checked((ushort)decision.ItemCount));
                offset += 2;
                for (var i = 0; i < decision.ItemCount; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(packed.AsSpan(offset), checked((ushort)(_itemKeys[index] + 1)));
                    BinaryPrimitives.WriteUInt16LittleEndian(packed.AsSpan(offset + 2), checked((ushort)(_itemRules[index] + 1)));
                    BinaryPrimitives.WriteInt64LittleEndian(packed.AsSpan(offset + 4), decision.Cost(i));
                    offset += PackedItemLength;
                    index++;
                }
            }

            arguments[at] = packed;
            Keys = keys;
            Arguments = arguments;
        }

        /// <summary>Settles every decision from the script's reply; <see langword="false"/> (nothing settled) when the reply is malformed.</summary>
        public bool TryComplete(RedisResult reply)
        {
            if (reply.Resp2Type != ResultType.Array || reply.Length != ItemCount * 3)
            {
                return false;
            }

            var items = (RedisResult[])reply!;
            foreach (var item in items)
            {
                if (item.Resp2Type != ResultType.Integer)
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

        /// <summary>The index of the item's key among the call's distinct keys (open addressing on the key's hash).</summary>
        private int KeyIndex(PendingDecision decision, int item, int mask)
        {
            var hash = decision.KeyHash(item);
            var key = decision.Key(item);
            for (var slot = hash & mask; ; slot = (slot + 1) & mask)
            {
                var index = _slots[slot];
                if (index < 0)
                {
                    _slots[slot] = _keyCount;
                    _keys[_keyCount] = (decision, item);
                    return _keyCount++;
                }

                var (other, otherItem) = _keys[index];
                if (other.KeyHash(otherItem) == hash && other.Key(otherItem).SequenceEqual(key))
                {
                    return index;
                }
            }
        }

        private int RuleIndex(RateLimitRule rule)
        {
            for (var r = 0; r < _ruleCount; r++)
            {
                if (ReferenceEquals(_rules[r], rule))
                {
                    return r;
                }
            }

            if (_ruleCount == _rules.Length)
            {
                Array.Resize(ref _rules, _ruleCount * 2);
            }

            _rules[_ruleCount] = rule;
            return _ruleCount++;
        }

        private void Clear()
        {
            for (var i = 0; i < DecisionCount; i++)
            {
                _decisions[i].ReleaseBySender();
            }

            Array.Clear(_decisions, 0, DecisionCount);
            Array.Clear(_keys, 0, _keyCount);
            Array.Clear(_rules, 0, _ruleCount);
            Keys = [];
            Arguments = [];
            DecisionCount = 0;
            ItemCount = 0;
            _keyCount = 0;
            _ruleCount = 0;
        }
    }
}
