using System.Collections.Concurrent;

namespace RolloutCluster.Training.Runtime;

/// <summary>
/// The process's CPU torch thread: one long-lived OS thread that runs every job's training loop and
/// every CPU generator's sampling, in turn. Measured on the GRPO loop (40 steps of the example job):
/// the same work took 1.3x (learning) to 1.9x (sampling) longer when it ran on a second thread or
/// hopped between thread-pool threads after each await, whatever OMP_WAIT_POLICY said; one thread
/// for all of it restored the single-threaded speed. A synchronization context brings every
/// continuation of a job back here, so awaiting grain calls or rewards never moves its torch work.
/// </summary>
public sealed class TorchThread : SynchronizationContext
{
    readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = new();

    static readonly ConcurrentDictionary<string, TorchThread> ByDevice = new(StringComparer.Ordinal);

    /// <summary>The one CPU torch thread of this process.</summary>
    public static TorchThread Cpu { get; } = new("torch-cpu");

    /// <summary>The thread for a device: the CPU thread for "cpu", one thread per GPU otherwise (so GPUs sample concurrently).</summary>
    public static TorchThread For(string device) => device == "cpu" ? Cpu : ByDevice.GetOrAdd(device, d => new TorchThread($"torch-{d}"));

    TorchThread(string name)
    {
        var thread = new Thread(() =>
        {
            SetSynchronizationContext(this);
            RolloutCluster.Model.MklCpuDispatch.Ensure(); // before the first matrix product of any job or generator
            foreach (var (callback, state) in _queue.GetConsumingEnumerable()) callback(state);
        }) { IsBackground = true, Name = name };
        thread.Start();
    }

    public override void Post(SendOrPostCallback d, object? state) => _queue.Add((d, state));

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("synchronous Send to the torch thread would deadlock it");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs synchronous work on this thread; the task completes off it.</summary>
    public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancellation = default)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(_ =>
        {
            if (cancellation.IsCancellationRequested) { done.TrySetCanceled(cancellation); return; }
            try { done.TrySetResult(work()); }
            catch (Exception e) { done.TrySetException(e); }
        }, null);
        return done.Task;
    }

    /// <summary>Starts an async job here; its continuations return here; the returned task completes off this thread.</summary>
    public Task<T> RunAsync<T>(Func<Task<T>> job)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(async _ =>
        {
            try { done.TrySetResult(await job()); }
            catch (OperationCanceledException e) { done.TrySetCanceled(e.CancellationToken); }
            catch (Exception e) { done.TrySetException(e); }
        }, null);
        return done.Task;
    }
}
