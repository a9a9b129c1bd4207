namespace AiEdge.Middleware.Conformance.Internal;

/// <summary>
/// Runs one check's body on a fresh store: a <see cref="ConformanceException"/> or the caller's cancellation passes
/// through, any other exception fails the check (the store threw where the contract expects a result), and the store
/// is disposed afterwards.
/// </summary>
internal static class StoreCheckRun
{
    public static async Task RunAsync<TStore>(Func<TStore?> createStore, string name, Func<TStore, CancellationToken, Task> body, CancellationToken cancellationToken)
        where TStore : class
    {
        var store = createStore() ?? throw new ConformanceException("The store factory returned null.");
        try
        {
            await body(store, cancellationToken).ConfigureAwait(false);
        }
        catch (ConformanceException)
        {
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw new ConformanceException(name + ": the store threw " + ex.GetType().Name + " where the contract expects a result: " + ex.Message, ex);
        }
        finally
        {
            if (store is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else if (store is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
    }
}
