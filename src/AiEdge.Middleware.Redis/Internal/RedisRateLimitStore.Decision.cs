using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Threading.Tasks.Sources;
using AiEdge.Middleware.RateLimiting.Internal;

namespace AiEdge.Middleware.Redis.Internal;

internal sealed partial class RedisRateLimitStore
{
    /// <summary>
    /// One request's decision on its way to Redis, pooled and reused. <see cref="Start"/> encodes its keys and values
    /// once, on the request's own thread; then it is settled exactly once, by whichever comes first: the call's reply
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
        private readonly ArrayBufferWriter<byte> _values = new(128);
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private RateLimitBatch? _batch;
        private CancellationToken _cancellationToken;
        private CancellationTokenRegistration _registration;
        private int _state;
        private int _owners;

        /// <summary>Gets the number of keys (one per item of the batch).</summary>
        public int KeyCount { get; private set; }

        /// <summary>Gets the keys, each a RESP bulk string.</summary>
        public ReadOnlySpan<byte> Keys => _keys.WrittenSpan;

        /// <summary>Gets the item count and the 6 values of each item, each a RESP bulk string.</summary>
        public ReadOnlySpan<byte> Values => _values.WrittenSpan;

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
            _values.ResetWrittenCount();
            KeyCount = batch.Count;
            RespWriter.WriteBulkInteger(_values, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                ref var item = ref batch.Items[i];
                var rule = item.Rule;
                WriteKey(rule.StoreKey, item.Partition);
                RespWriter.WriteBulkInteger(_values, rule.Unit == RateLimitUnit.Requests ? 0 : 1);
                RespWriter.WriteBulkInteger(_values, rule.RateNumerator);
                RespWriter.WriteBulkInteger(_values, rule.RateDenominator);
                RespWriter.WriteBulkInteger(_values, rule.CapacityMilli);
                RespWriter.WriteBulkInteger(_values, rule.NoDelay ? -1 : rule.DelayMilli);
                RespWriter.WriteBulkInteger(_values, item.CostMilli);
            }

            var task = new ValueTask(this, _core.Version);
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.UnsafeRegister(static (state, token) => ((PendingDecision)state!).Cancel(token), this);
            }

            return task;
        }

        /// <summary>Takes the results of this decision from the reply at <paramref name="offset"/>; returns the offset after them.</summary>
        public int Complete(RedisValue[] items, int offset)
        {
            var next = offset + 1 + KeyCount * 5;
            if (!TrySettle())
            {
                return next;
            }

            var batch = _batch!;
            batch.Admitted = items[offset].Integer == 1;
            for (var i = 0; i < KeyCount; i++)
            {
                var o = offset + 1 + i * 5;
                ref var result = ref batch.Results[i];
                result.Admitted = items[o].Integer == 1;
                result.DelayMs = items[o + 1].Integer;
                result.RetryAfterMs = items[o + 2].Integer;
                result.Remaining = items[o + 3].Integer;
                result.ResetMs = items[o + 4].Integer;
            }

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
                local = store._local.AcquireAsync(_batch!, _cancellationToken);
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
                store.ReturnDecision(this);
            }
        }

        /// <summary>Writes <c>{prefix}rl:{storeKey}:{{partition}}</c> as a bulk string, exactly as <see cref="Key"/> spells it.</summary>
        private void WriteKey(string storeKey, in PartitionKey partition)
        {
            var prefix = store._prefixBytes;
            var text = partition.Text;
            Span<byte> address = stackalloc byte[64];
            var partitionLength = text is null ? FormatAddress(partition.Address, address) : 3 + Encoding.UTF8.GetByteCount(text);
            var length = prefix.Length + Encoding.UTF8.GetByteCount(storeKey) + 2 + partitionLength + 1;
            RespWriter.WriteHeader(_keys, (byte)'$', length);
            var span = _keys.GetSpan(length + 2);
            prefix.CopyTo(span);
            var at = prefix.Length;
            at += Encoding.UTF8.GetBytes(storeKey, span[at..]);
            ":{"u8.CopyTo(span[at..]);
            at += 2;
            if (text is null)
            {
                address[..partitionLength].CopyTo(span[at..]);
                at += partitionLength;
            }
            else
            {
                "id:"u8.CopyTo(span[at..]);
                at += 3;
                at += Encoding.UTF8.GetBytes(text, span[at..]);
            }

            "}\r\n"u8.CopyTo(span[at..]);
            _keys.Advance(length + 2);
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
