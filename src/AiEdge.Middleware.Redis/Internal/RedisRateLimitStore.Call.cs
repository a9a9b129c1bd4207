using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using AiEdge.Middleware.RateLimiting;

namespace AiEdge.Middleware.Redis.Internal;

internal sealed partial class RedisRateLimitStore
{
    /// <summary>
    /// One script call deciding several requests. <see cref="Prepare"/> lists the call's distinct buckets (a hot
    /// bucket many requests share is one key) and distinct rules, and encodes each item as (key index, rule index,
    /// cost); <see cref="WriteTo"/> copies the keys the requests encoded and those arguments into the connection's
    /// buffer; the reply hands each decision its part. Reused by the sender between calls.
    /// </summary>
    private sealed class DecisionCall(int capacity) : IRedisScriptArguments
    {
        private const int PackedItemLength = 12;

        private readonly PendingDecision[] _decisions = new PendingDecision[capacity];
        private readonly ArrayBufferWriter<byte> _arguments = new(1024);
        private (PendingDecision Decision, int Item)[] _keys = new (PendingDecision, int)[64];
        private int[] _slots = new int[128];
        private int[] _itemKeys = new int[64];
        private int[] _itemRules = new int[64];
        private RateLimitRule[] _rules = new RateLimitRule[8];
        private int _keyCount;
        private int _ruleCount;
        private int _argumentCount;

        /// <summary>Gets the number of decisions in the call.</summary>
        public int DecisionCount { get; private set; }

        /// <summary>Gets the number of items (rules) of every decision together.</summary>
        public int ItemCount { get; private set; }

        int IRedisScriptArguments.KeyCount => _keyCount;

        int IRedisScriptArguments.Count => _keyCount + _argumentCount;

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

            var writer = _arguments;
            writer.ResetWrittenCount();
            if (fixedNowMs is { } now)
            {
                RespWriter.WriteBulkInteger(writer, now);
            }
            else
            {
                RespWriter.WriteEmpty(writer);
            }

            RespWriter.WriteBulkInteger(writer, DecisionCount);
            RespWriter.WriteBulkInteger(writer, _ruleCount);
            for (var r = 0; r < _ruleCount; r++)
            {
                var rule = _rules[r];
                RespWriter.WriteBulkInteger(writer, rule.Unit == RateLimitUnit.Requests ? 0 : 1);
                RespWriter.WriteBulkInteger(writer, rule.RateNumerator);
                RespWriter.WriteBulkInteger(writer, rule.RateDenominator);
                RespWriter.WriteBulkInteger(writer, rule.CapacityMilli);
                RespWriter.WriteBulkInteger(writer, rule.NoDelay ? -1 : rule.DelayMilli);
            }

            // The batches, packed into one bulk string (the script's struct.unpack layout): per batch its item count,
            // per item its key index, rule index (from 1) and cost. Indexes fit 16 bits: a call holds at most
            // MaxItemsPerCall items unless one request's own rules are more.
            var length = DecisionCount * 2 + ItemCount * PackedItemLength;
            RespWriter.WriteHeader(writer, (byte)'$', length);
            var packed = writer.GetSpan(length + 2);
            var at = 0;
            index = 0;
            for (var d = 0; d < DecisionCount; d++)
            {
                var decision = _decisions[d];
                BinaryPrimitives.WriteUInt16LittleEndian(packed[at..], checked((ushort)decision.ItemCount));
                at += 2;
                for (var i = 0; i < decision.ItemCount; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(packed[at..], checked((ushort)(_itemKeys[index] + 1)));
                    BinaryPrimitives.WriteUInt16LittleEndian(packed[(at + 2)..], checked((ushort)(_itemRules[index] + 1)));
                    BinaryPrimitives.WriteInt64LittleEndian(packed[(at + 4)..], decision.Cost(i));
                    at += PackedItemLength;
                    index++;
                }
            }

            packed[at] = (byte)'\r';
            packed[at + 1] = (byte)'\n';
            writer.Advance(length + 2);
            _argumentCount = 4 + _ruleCount * 5;
        }

        public void WriteTo(IBufferWriter<byte> writer)
        {
            for (var k = 0; k < _keyCount; k++)
            {
                var (decision, item) = _keys[k];
                writer.Write(decision.Key(item));
            }

            writer.Write(_arguments.WrittenSpan);
        }

        /// <summary>Settles every decision from the script's reply; <see langword="false"/> (nothing settled) when the reply is malformed.</summary>
        public bool TryComplete(RedisValue reply)
        {
            if (reply.Type != RespType.Array || reply.Items!.Length != ItemCount * 3)
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
            DecisionCount = 0;
            ItemCount = 0;
            _keyCount = 0;
            _ruleCount = 0;
        }
    }
}
