using RolloutCluster.Model;
using RolloutCluster.Model.Reward;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Rewards;
using TorchSharp;

namespace RolloutCluster.Training.Engine;

/// <summary>
/// The reward models of one process (a silo's verifiers, or an in-process job), each loaded once per
/// directory and shared: a verifier's request is scored in one forward pass per chunk, one request
/// at a time per model (torch's threads are the process's; two passes at once would only contend).
/// Models sit on <paramref name="device"/> ("cpu", "cuda:0"; CPU when null).
/// </summary>
public sealed class RewardModelScorers(string? device = null, int batchSize = 32) : IRewardModelSource, IDisposable
{
    readonly Dictionary<string, Scorer> _loaded = new(StringComparer.Ordinal);
    readonly Lock _lock = new();

    public IRewardModelScorer Open(string dir)
    {
        string full = Path.GetFullPath(dir);
        lock (_lock)
        {
            if (_loaded.TryGetValue(full, out var existing)) return existing;
            (RewardModel Model, ITokenizer Tokenizer) loaded;
            try { loaded = RewardModel.Load(full); }
            catch (ModelFormatException e) { throw new ArgumentException($"reward 'model': {e.Message}", e); }
            if (device is not null) loaded.Model.to(TorchSharp.torch.device(device));
            var scorer = new Scorer(loaded.Model, loaded.Tokenizer, batchSize);
            _loaded[full] = scorer;
            return scorer;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var scorer in _loaded.Values) scorer.Dispose();
            _loaded.Clear();
        }
    }

    sealed class Scorer(RewardModel model, ITokenizer tokenizer, int batchSize) : IRewardModelScorer, IDisposable
    {
        readonly SemaphoreSlim _one = new(1, 1);

        public string Scope => model.Scope;

        public async ValueTask<IReadOnlyList<double>> ScoreAsync(IReadOnlyList<(string Context, string Completion)> items, CancellationToken cancellation = default)
        {
            if (items.Count == 0) return [];
            await _one.WaitAsync(cancellation);
            try
            {
                // Off the caller's scheduler: a verifier grain's turn should not hold a forward pass.
                return await Task.Run(() => RewardModelScoring.Logits(model, [.. items.Select(i => tokenizer.Encode(i.Context))],
                    [.. items.Select(i => tokenizer.Encode(i.Completion))], batchSize, tokenizer.EosId), cancellation);
            }
            finally { _one.Release(); }
        }

        public void Dispose()
        {
            model.Dispose();
            _one.Dispose();
        }
    }
}
