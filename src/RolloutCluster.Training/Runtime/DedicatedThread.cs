using System.Collections.Concurrent;

namespace RolloutCluster.Training.Runtime;

/// <summary>
/// One long-lived OS thread that runs work items in order. Torch work belongs on a thread like this
/// rather than a fresh thread per call: each new calling thread gets its own OpenMP team and malloc
/// arena, and a generator creating one per request grew a silo to several GB and slowed it down.
/// </summary>
public sealed class DedicatedThread : IDisposable
{
    readonly BlockingCollection<Action> _queue = new();

    public DedicatedThread(string name)
    {
        var thread = new Thread(() =>
        {
            foreach (var work in _queue.GetConsumingEnumerable()) work();
        }) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>Queues work; the task completes (off this thread) with its result or exception.</summary>
    public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellation = default)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(() =>
        {
            if (cancellation.IsCancellationRequested) { done.TrySetCanceled(cancellation); return; }
            try { done.TrySetResult(work()); }
            catch (Exception e) { done.TrySetException(e); }
        }, CancellationToken.None);
        return done.Task;
    }

    /// <summary>Lets queued work finish, then ends the thread.</summary>
    public void Dispose() => _queue.CompleteAdding();
}
