using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Threading.Tasks.Sources;
using AiEdge.Middleware.RateLimiting;
using StackExchange.Redis;

namespace AiEdge.Middleware.Redis.Internal;

internal sealed partial class RedisRateLimitStore
{
    /// <summary>
    /// One request's decision on its way to Redis, pooled and reused. <see cref="Start"/> encodes its keys once, on
    /// the request's own thread, and keeps each item's rule and cost; then it is settled exactly once, by whichever comes first: the call's reply
    /// (the results are written into the batch), the failure mode when the call fails, or the caller's cancellation
    /// (the batch is then never touched again, as its caller may reuse it). The caller awaits it as a
    /// <see cref="ValueTask"/> with no task behind it. It goes back to the pool once both the caller has its result
    /// and the sender is done with its encoded bytes.
    /// </summary>
    private sealed class PendingDecision(RedisRateLimitStore store) : IValueTaskSource
    {
        private const int Waiting = 0;
        private const int Settled = 1;

        private readonly ArrayBufferWriter<byte> _keys = new(256);
        private int[] _keyEnds = new int[4];
        private int[] _keyHashes = new int[4];
        private RateLimitRule[] _rules = new RateLimitRule[4];
        private long[] _costs = new long[4];
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private RateLimitBatch? _batch;
        private CancellationToken _cancellationToken;
        private CancellationTokenRegistration _registration;
        private int _state;
        private int _owners;

        /// <summary>Gets the number of items (rules) of the batch.</summary>
        public int ItemCount { get; private set; }

        /// <summary>Gets whether the decision was settled (cancelled, before its call was sent).</summary>
        public bool IsSettled => Volatile.Read(ref _state) == Settled;

        /// <summary>Copies what the script needs out of <paramref name="batch"/> and returns the task its caller awaits.</summary>
        public ValueTask Start(RateLimitBatch batch, CancellationToken cancellationToken)
        {
            _core.Reset();
            _state = Waiting;
            _owners = 2;
            _batch = batch;
            _cancellationToken = cancellationToken;
            _keys.ResetWrittenCount();
            var count = batch.Count;
            if (_rules.Length < count)
            {
                _keyEnds = new int[count];
                _keyHashes = new int[count];
                _rules = new RateLimitRule[count];
                _costs = new long[count];
            }

            ItemCount = count;
            for (var i = 0; i < count; i++)
            {
                ref readonly var item = ref batch.Items[i];
                var start = _keys.WrittenCount;
                WriteKey(item.Rule.StoreKey, item.Partition);
                _keyEnds[i] = _keys.WrittenCount;
                var hash = default(HashCode);
                hash.AddBytes(_keys.WrittenSpan[start..]);
                _keyHashes[i] = hash.ToHashCode();
                _rules[i] = item.Rule;
                _costs[i] = item.CostMilli;
            }

            var task = new ValueTask(this, _core.Version);
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.UnsafeRegister(static (state, token) => ((PendingDecision)state!).Cancel(token), this);
            }

            return task;
        }

        /// <summary>Gets the key of item <paramref name="item"/>, UTF-8.</summary>
        public ReadOnlySpan<byte> Key(int item) => _keys.WrittenSpan[(item == 0 ? 0 : _keyEnds[item - 1]).._keyEnds[item]];

        /// <summary>Gets a hash of <see cref="Key"/>.</summary>
        public int KeyHash(int item) => _keyHashes[item];

        /// <summary>Gets the rule of item <paramref name="item"/>.</summary>
        public RateLimitRule Rule(int item) => _rules[item];

        /// <summary>Gets the cost (milli-units) of item <paramref name="item"/>.</summary>
        public long Cost(int item) => _costs[item];

        /// <summary>Takes the results of this decision from the reply at <paramref name="offset"/>; returns the offset after them.</summary>
        public int Complete(RedisResult[] items, int offset)
        {
            var next = offset + ItemCount * 3;
            if (!TrySettle())
            {
                return next;
            }

            var batch = _batch!;
            var admitted = true;
            for (var i = 0; i < ItemCount; i++)
            {
                var o = offset + i * 3;
                var decided = (long)items[o];
                ref var result = ref batch.Results[i];
                result.Admitted = decided >= 0;
                result.DelayMs = Math.Max(decided, 0);
                result.RetryAfterMs = Math.Max(-decided, 0);
                result.Remaining = (long)items[o + 1];
                result.NextMs = (long)items[o + 2];
                admitted &= decided >= 0;
            }

            batch.Admitted = admitted;

            _core.SetResult(true);
            return next;
        }

        /// <summary>The call failed: the decision follows the failure mode (decided locally, or the error).</summary>
        public void Fail(RedisConnectionException error)
        {
            if (!TrySettle())
            {
                return;
            }

            if (store._failClosed)
            {
                _core.SetException(error);
                return;
            }

            store._metrics?.RedisFallback(Concern);
            ValueTask local;
            try
            {
                local = store.LocalAcquireAsync(_batch!, _cancellationToken);
            }
            catch (Exception ex)
            {
                _core.SetException(ex);
                return;
            }

            if (local.IsCompletedSuccessfully)
            {
                local.GetAwaiter().GetResult();
                _core.SetResult(true);
            }
            else
            {
                _ = CompleteWhenDoneAsync(local);
            }
        }

        /// <summary>The sender is done with this decision's bytes.</summary>
        public void ReleaseBySender() => Release();

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _core.OnCompleted(continuation, state, token, flags);

        public void GetResult(short token)
        {
            try
            {
                _core.GetResult(token);
            }
            finally
            {
                // Waits for a cancellation callback that is running right now, so none outlives this use.
                _registration.Dispose();
                _registration = default;
                Release();
            }
        }

        private void Cancel(CancellationToken token)
        {
            if (TrySettle())
            {
                _core.SetException(new OperationCanceledException(token));
            }
        }

        private bool TrySettle() => Interlocked.CompareExchange(ref _state, Settled, Waiting) == Waiting;

        private async Task CompleteWhenDoneAsync(ValueTask local)
        {
            try
            {
                await local.ConfigureAwait(false);
                _core.SetResult(true);
            }
            catch (Exception ex)
            {
                _core.SetException(ex);
            }
        }

        private void Release()
        {
            if (Interlocked.Decrement(ref _owners) == 0)
            {
                _batch = null;
                _cancellationToken = default;
                Array.Clear(_rules, 0, ItemCount);
                store.ReturnDecision(this);
            }
        }

        /// <summary>Writes <c>{prefix}{rl}:{storeKey}:{partition}</c>, exactly as <see cref="Key"/> spells it.</summary>
        private void WriteKey(string storeKey, in PartitionKey partition)
        {
            var prefix = store._prefixBytes;
            var text = partition.Text;
            Span<byte> address = stackalloc byte[64];
            var partitionLength = text is null ? FormatAddress(partition.Address, address) : 3 + Encoding.UTF8.GetByteCount(text);
            var length = prefix.Length + Encoding.UTF8.GetByteCount(storeKey) + 1 + partitionLength;
            var span = _keys.GetSpan(length);
            prefix.CopyTo(span);
            var at = prefix.Length;
            at += Encoding.UTF8.GetBytes(storeKey, span[at..]);
            span[at++] = (byte)':';
            if (text is null)
            {
                address[..partitionLength].CopyTo(span[at..]);
            }
            else
            {
                "id:"u8.CopyTo(span[at..]);
                at += 3;
                Encoding.UTF8.GetBytes(text, span[at..]);
            }

            _keys.Advance(length);
        }

        /// <summary>Writes <c>ip:</c> and the address as <see cref="PartitionKey.ToString"/> does; returns the length.</summary>
        private static int FormatAddress(UInt128 address, Span<byte> destination)
        {
            "ip:"u8.CopyTo(destination);
            var at = 3;
            if (address >> 32 == 0xFFFF)
            {
                var v4 = (uint)(address & uint.MaxValue);
                for (var shift = 24; shift >= 0; shift -= 8)
                {
                    Utf8Formatter.TryFormat((v4 >> shift) & 0xFF, destination[at..], out var written);
                    at += written;
                    if (shift > 0)
                    {
                        destination[at++] = (byte)'.';
                    }
                }

                return at;
            }

            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteUInt128BigEndian(bytes, address);
            new IPAddress(bytes).TryFormat(destination[at..], out var length);
            return at + length;
        }
    }
}
