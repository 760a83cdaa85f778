using System.Text;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using TorchSharp;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Sampling;

/// <summary>
/// Batched autoregressive sampling with a KV cache. Prompts of different lengths share a batch by
/// left padding; each row's positions count from its first real token, so a row gives the same
/// result alone or batched. Rows that finish are dropped from the batch once they are the majority.
/// </summary>
public sealed class Sampler(CausalLm model, ITokenizer tokenizer)
{
    /// <summary>
    /// Keep keys and values between steps (default). Without the cache every step re-runs the whole
    /// sequence; that mode exists to measure what the cache buys.
    /// </summary>
    public bool UseKvCache { get; init; } = true;

    /// <summary>How the next token is drawn; <see cref="SamplingMethod.Multinomial"/> exists for comparison with PyTorch habits.</summary>
    public SamplingMethod Method { get; init; } = SamplingMethod.InverseCdf;

    /// <summary>Called after each forward pass with the step, the original row of each batch row and the logits (B, V).</summary>
    public delegate void LogitsObserver(int step, IReadOnlyList<int> rows, Tensor logits);

    /// <summary>
    /// Samples one completion per prompt. rowSeeds (one per prompt) fix each row's random stream;
    /// by default they derive from p.Seed and the row index.
    /// </summary>
    public Completion[] Generate(IReadOnlyList<int[]> prompts, SamplingParams p, IReadOnlyList<long>? rowSeeds = null, LogitsObserver? observe = null)
    {
        if (p.Validate() is { } problem) throw new ArgumentException(problem, nameof(p));
        if (prompts.Count == 0) return [];
        if (prompts.Any(x => x.Length == 0)) throw new ArgumentException("every prompt needs at least one token", nameof(prompts));
        if (rowSeeds is not null && rowSeeds.Count != prompts.Count)
            throw new ArgumentException($"{rowSeeds.Count} row seeds for {prompts.Count} prompts", nameof(rowSeeds));
        int batch = prompts.Count, promptLength = prompts.Max(x => x.Length);
        if (promptLength + p.MaxNewTokens > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"prompt ({promptLength} tokens) + max_new_tokens ({p.MaxNewTokens}) exceeds max_position_embeddings ({model.Config.MaxPositionEmbeddings})");

        var seeds = Enumerable.Range(0, batch).Select(i => rowSeeds?[i] ?? RowRandom.RowSeed(p.Seed, i)).ToArray();
        var rows = Enumerable.Range(0, batch).Select(i => new RowState(prompts[i].Length, p)).ToArray();
        var stopIds = new HashSet<int>(p.StopTokenIds);
        var device = model.Device;
        long capacity = promptLength + p.MaxNewTokens;
        bool padded = prompts.Any(x => x.Length != promptLength);

        using var inference = inference_mode();
        using var outer = NewDisposeScope();
        model.eval();
        using var cache = UseKvCache ? new KvCache(model.Config, batch, capacity, device, model.DType) : null;

        // Host-side copies of every row's slots: token ids and whether each slot holds a real token.
        var ids = new long[batch, capacity];
        var valid = new bool[batch, capacity];
        for (int i = 0; i < batch; i++)
        {
            int offset = promptLength - prompts[i].Length;
            for (int j = 0; j < promptLength; j++)
            {
                bool real = j >= offset;
                ids[i, j] = real ? prompts[i][j - offset] : tokenizer.EosId;
                valid[i, j] = real;
            }
        }
        var active = Enumerable.Range(0, batch).ToList();
        var logits = Forward(ids, valid, active, 0, promptLength, padded, cache, device);  // (B, V)

        for (int step = 0; ; step++)
        {
            observe?.Invoke(step, active, logits);
            long[] tokens;
            float[] logProbs;
            using (var scope = NewDisposeScope())
            {
                var uniforms = tensor(active.Select(r => (float)RowRandom.Uniform(seeds[r], step)).ToArray(), device: device); // (B)
                var (t, lp) = TokenSelection.Select(logits, p, uniforms, Method);
                tokens = t.cpu().data<long>().ToArray();
                logProbs = lp.cpu().data<float>().ToArray();
            }
            logits.Dispose();
            for (int b = 0; b < active.Count; b++)
            {
                if (!rows[active[b]].Done) rows[active[b]].Append((int)tokens[b], logProbs[b], stopIds, tokenizer);
            }
            var stillActive = Enumerable.Range(0, active.Count).Where(b => !rows[active[b]].Done).ToList();
            if (stillActive.Count == 0) break;

            long slot = promptLength + step;
            for (int b = 0; b < active.Count; b++)
            {
                ids[active[b], slot] = tokens[b];
                valid[active[b], slot] = true;
            }
            if (stillActive.Count * 2 <= active.Count)
            {
                // Most rows are done: shrink the batch so finished rows stop costing compute.
                if (cache is not null)
                {
                    using var scope = NewDisposeScope();
                    cache.KeepRows(tensor(stillActive.Select(b => (long)b).ToArray(), device: device));
                }
                active = stillActive.Select(b => active[b]).ToList();
            }
            logits = cache is null
                ? Forward(ids, valid, active, 0, slot + 1, padded, null, device)
                : Forward(ids, valid, active, slot, 1, padded, cache, device);
        }
        return rows.Select(r => r.ToCompletion(tokenizer)).ToArray();
    }

    /// <summary>Runs slots [start, start + length) of the active rows; returns the last slot's logits (B, V), outside any scope.</summary>
    Tensor Forward(long[,] ids, bool[,] valid, List<int> active, long start, long length, bool padded, KvCache? cache, Device device)
    {
        using var scope = NewDisposeScope();
        int b = active.Count;
        long end = start + length;
        var input = new long[b * length];
        for (int r = 0; r < b; r++)
            for (long j = 0; j < length; j++) input[r * length + j] = ids[active[r], start + j];
        var validT = ValidTensor(valid, active, end, device);                                   // (B, Tk)
        var positions = AttentionMask.Positions(validT).narrow(1, start, length);              // (B, T)
        var mask = padded ? AttentionMask.Build(validT, start, length) : null;                 // (B, 1, T, Tk)
        var logits = model.Forward(tensor(input, [b, length], device: device), positions, mask, cache, lastOnly: true); // (B, 1, V)
        // Models often pad vocab_size past the tokenizer; ids the tokenizer cannot decode are never sampled.
        if (logits.shape[2] > tokenizer.VocabSize) logits = logits.narrow(2, 0, tokenizer.VocabSize);
        return logits.squeeze(1).MoveToOuterDisposeScope();                                     // (B, V)
    }

    static Tensor ValidTensor(bool[,] valid, List<int> active, long length, Device device)
    {
        var flat = new bool[active.Count * length];
        for (int b = 0; b < active.Count; b++)
            for (long j = 0; j < length; j++) flat[b * length + j] = valid[active[b], j];
        return tensor(flat, [active.Count, length], device: device);
    }

    /// <summary>One row's progress: its tokens so far and whether a stop condition has fired.</summary>
    sealed class RowState(int promptLength, SamplingParams p)
    {
        readonly List<int> _tokens = [];
        readonly List<float> _logProbs = [];
        readonly int _stopWindow = p.StopStrings.Count == 0 ? 0 : p.StopStrings.Max(s => Encoding.UTF8.GetByteCount(s)) + 4;
        bool _stopToken;
        string? _stopString;

        public int PromptLength { get; } = promptLength;
        public bool Done { get; private set; }

        public void Append(int token, float logProb, HashSet<int> stopIds, ITokenizer tokenizer)
        {
            _tokens.Add(token);
            _logProbs.Add(logProb);
            if (stopIds.Contains(token)) { _stopToken = true; Done = true; return; }
            if (_stopWindow > 0)
            {
                // Each token decodes to at least one byte, so the last window tokens hold any stop string just completed.
                int from = Math.Max(0, _tokens.Count - _stopWindow);
                var tail = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tokens)[from..]);
                _stopString = p.StopStrings.FirstOrDefault(s => tail.Contains(s, StringComparison.Ordinal));
                if (_stopString is not null) { Done = true; return; }
            }
            if (_tokens.Count >= p.MaxNewTokens) Done = true;
        }

        public Completion ToCompletion(ITokenizer tokenizer)
        {
            var ids = _tokens.ToArray();
            var text = tokenizer.Decode(_stopToken ? ids.AsSpan(0, ids.Length - 1) : ids);
            if (_stopString is not null)
            {
                int at = text.IndexOf(_stopString, StringComparison.Ordinal);
                if (at >= 0) text = text[..(at + _stopString.Length)];
            }
            var finish = _stopToken || _stopString is not null ? FinishReason.Stop : FinishReason.Length;
            return new Completion(ids, _logProbs.ToArray(), text, finish);
        }
    }
}
