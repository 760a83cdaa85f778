using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RolloutCluster.Abstractions;
using RolloutCluster.Data;
using RolloutCluster.Model;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Model.Weights;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Runtime;
using TorchSharp;
using RolloutCluster.Grains.Weights;

namespace RolloutCluster.Grains;

/// <summary>
/// A policy replica on one device of one silo. Each request names a job and a weights version: the
/// version comes from the silo's <see cref="WeightCache"/> (fetched once per silo), is unpacked into
/// the replica if it is not the one loaded, and sampling runs on the process's torch thread (<see cref="TorchThread"/>: it
/// is CPU/GPU-bound and must not hold an Orleans scheduler thread). Completions are scored by a verifier
/// on the same silo. Not reentrant: one request at a time per device.
/// </summary>
[SiloKeyedPlacement]
public sealed partial class GeneratorGrain(WeightCache cache, GeneratorActivity activity, ILogger<GeneratorGrain> logger) : Grain, IGeneratorGrain, IDisposable
{
    string? _job;
    PolicyReplica? _replica;
    ITokenizer? _tokenizer;
    TokenizerWire? _tokenizerWire;

    public async Task<GenerateResult> GenerateAsync(GenerateRequest request, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        using var weights = await cache.LeaseAsync(request.Job, request.Epoch, request.Version);
        // A LoRA version is the adapters alone; the frozen base comes once per silo and stays cached.
        using var baseWeights = weights.Manifest.BaseChecksum is null ? null : await cache.LeaseAsync(request.Job, request.Epoch, WeightStore.BaseVersion);
        if (_job != request.Job || _replica is null) _tokenizerWire = await GrainFactory.GetGrain<ILearnerGrain>(request.Job).GetTokenizerAsync();
        double weightsSeconds = clock.Elapsed.TotalSeconds;
        // Timed on the torch thread itself: time queued behind the learner's step is not sampling.
        var (groups, sampleSeconds) = await TorchThread.For(Device).RunAsync(() =>
        {
            var started = Stopwatch.StartNew();
            return (Sample(request, weights, baseWeights), started.Elapsed.TotalSeconds);
        }, cancellation);
        var result = await GroupVerification.ScoreAsync(GrainFactory, request, groups, _tokenizer!, sampleSeconds, cancellation);
        activity.Record(this.GetPrimaryKeyString(), result.SampleSeconds, result.ScoreSeconds, result.Groups.Count);
        return result with { WeightsSeconds = weightsSeconds };
    }

    IReadOnlyList<SampledGroup> Sample(GenerateRequest request, WeightLease weights, WeightLease? baseWeights)
    {
        EnsureReplica(request.Job, weights);
        // The cache checked the checksums on receipt.
        if (baseWeights is not null)
        {
            if (baseWeights.Manifest.Checksum != weights.Manifest.BaseChecksum)
                throw new InvalidDataException($"job {request.Job} v{request.Version}: base weights {baseWeights.Manifest.Checksum} are not the version's base {weights.Manifest.BaseChecksum}");
            _replica!.LoadBase(baseWeights.Buffer, CachedWeights.ToManifest(baseWeights.Manifest), verified: true);
        }
        var model = _replica!.Load(request.Version, weights.Buffer, CachedWeights.ToManifest(weights.Manifest), verified: true);
        var policy = new Policy(model, _tokenizer!, PromptTemplate.Plain);
        return GroupSampler.Sample(policy, request.Problems.Select(p => p.FromWire()).ToList(), request.GroupSize, request.Sampling.FromWire(),
            request.Seed, request.Version, firstProblem: request.FirstProblem, generator: this.GetPrimaryKeyString(), prompts: request.Prompts);
    }

    void EnsureReplica(string job, WeightLease weights)
    {
        if (_job == job && _replica is not null && _replica.Model.Lora is null == (weights.Manifest.LoraConfigJson is null)) return;
        _replica?.Dispose();
        var config = JsonSerializer.Deserialize<ModelConfig>(weights.Manifest.ModelConfigJson)
            ?? throw new InvalidDataException($"job {job}: the weights manifest has no model configuration");
        var device = Device;
        var (target, note) = TorchDevices.Select(device == "cpu" ? "cpu" : device);
        if (note is not null) LogDeviceFallback(logger, note);
        var lora = weights.Manifest.LoraConfigJson is { } loraJson ? JsonSerializer.Deserialize<RolloutCluster.Model.Lora.LoraConfig>(loraJson) : null;
        _replica = new PolicyReplica(config, DTypes.FromConfigName(weights.Manifest.DType) ?? torch.ScalarType.Float32, target, lora);
        _tokenizer = TokenizerJson.Parse(_tokenizerWire!.Json, _tokenizerWire.EosToken, $"job {job} tokenizer");
        _job = job;
        LogReplica(logger, job, config.ParameterCount(), device);
    }

    string Device => this.GetPrimaryKeyString().Split('/').Last();

    public void Dispose()
    {
        var replica = _replica;
        _ = TorchThread.For(Device).RunAsync(() => { replica?.Dispose(); return 0; });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Generator replica for job {Job}: {Parameters} parameters on {Device}")]
    static partial void LogReplica(ILogger logger, string job, long parameters, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Note}")]
    static partial void LogDeviceFallback(ILogger logger, string note);
}
