using RolloutCluster.Data;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;

namespace RolloutCluster.Training.Engine;

/// <summary>
/// The model being trained with its tokenizer and the prompt template of its task. With the chat
/// template, prompts are the model's own chat template (tokenizer_config.json) rendered over the
/// task's system message and the problem's conversation, with a generation prompt.
/// </summary>
/// <param name="effortLast">The effort line right before the answer instead of before the question (<see cref="Jobs.TaskSpec.EffortLine"/>).</param>
public sealed class Policy(CausalLm model, ITokenizer tokenizer, PromptTemplate template, string? system = null, bool effortLast = false) : IDisposable
{
    readonly PromptBuilder _prompts = new(tokenizer, template, system, effortLast);

    public CausalLm Model => model;

    /// <summary>The dtype generators sample in (the versions they receive are converted to it); the model's own by default.</summary>
    public TorchSharp.torch.ScalarType SampleDType { get; set; } = model.DType;

    /// <summary>
    /// What each published weights version packs, for <c>WeightPack.Pack</c>: the whole model in the
    /// sampling dtype; under LoRA the adapters alone, kept float32.
    /// </summary>
    public (Func<string, bool>? Include, TorchSharp.torch.ScalarType? DType) VersionParts =>
        model.Lora is null ? (null, SampleDType) : (CausalLm.IsLora, null);

    /// <summary>What a LoRA policy's frozen base packs (published once): every parameter but the adapters, in the sampling dtype.</summary>
    public (Func<string, bool> Include, TorchSharp.torch.ScalarType DType) BaseParts => (name => !CausalLm.IsLora(name), SampleDType);
    public ITokenizer Tokenizer => tokenizer;
    public PromptTemplate Template => template;

    /// <summary>The task's system message (chat template only).</summary>
    public string? System => system;

    /// <summary>Counts changes to the weights: stages call <see cref="Changed"/> after each optimizer step.</summary>
    public long Revision { get; private set; }

    /// <summary>The engine version that last published these weights, and the revision it held.</summary>
    public (long Version, long Revision)? PublishedAs { get; set; }

    public void Changed() => Revision++;

    /// <summary>Token ids of a problem's prompt: its question in the prompt template, or its conversation in the model's chat template.</summary>
    public int[] Prompt(Problem problem) => _prompts.Ids(problem);

    /// <summary>Token ids of a problem's target completion, ending with end-of-sequence: its verbatim solution, or its reasoning and answer in the R1 format.</summary>
    public int[] TargetCompletion(Problem problem)
    {
        var text = problem.Solution ?? (problem.Reasoning is { } reasoning ? PromptTemplate.Completion(reasoning, problem.Answer)
            : throw new InvalidOperationException($"problem {problem.Id} has no solution or worked reasoning to learn from"));
        return [.. tokenizer.Encode(text), tokenizer.EosId];
    }

    public void Dispose() => model.Dispose();
}
