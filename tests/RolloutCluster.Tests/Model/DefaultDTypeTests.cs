using RolloutCluster.Model.Scoring;
using RolloutCluster.Model.Transformer;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Model;

/// <summary>
/// torch's default dtype is process-wide and a bf16 model is built under it: a float32 model, or a
/// scorer's buffers, made on another thread at that moment must not come out in bf16 (this once
/// failed a learner test run beside a bf16 test: "index_add_(): self (BFloat16) and source (Float)").
/// </summary>
public sealed class DefaultDTypeTests
{
    /// <summary>Builds bf16 models on a thread of its own (not the pool's: it must run alongside the test) until disposed.</summary>
    sealed class Bf16Builder : IDisposable
    {
        volatile bool _stop;
        readonly Thread _thread;

        public Bf16Builder()
        {
            var config = TinyModels.Config();
            _thread = new Thread(() => { while (!_stop) CausalLm.Create(config, ScalarType.BFloat16).Dispose(); }) { IsBackground = true };
            _thread.Start();
            Thread.Sleep(50);
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }

    [Fact]
    public void A_float32_model_built_while_a_bf16_one_is_being_built_is_float32()
    {
        var config = TinyModels.Config();
        var wrong = new List<string>();
        using (new Bf16Builder())
            for (int i = 0; i < 100; i++)
            {
                using var model = new CausalLm(config);
                wrong.AddRange(model.named_parameters().Where(p => p.parameter.dtype != ScalarType.Float32).Select(p => $"build {i}: {p.name} is {p.parameter.dtype}"));
            }
        Assert.Empty(wrong);
    }

    [Fact]
    public void Scoring_returns_float32_while_a_bf16_model_is_being_built_elsewhere()
    {
        using var model = TinyModels.Create();
        using var builder = new Bf16Builder();
        for (int i = 0; i < 100; i++)
        {
            using var scores = SequenceScorer.Score(model, [[1, 2, 3]], [[4, 5, 6, 7]], 1f, entropy: true, padId: 0);
            Assert.Equal(ScalarType.Float32, scores.LogProbs.dtype);
            Assert.Equal(ScalarType.Float32, scores.Entropy!.dtype);
        }
    }
}
