using RolloutCluster.Data;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;

namespace RolloutCluster.Training.Engine;

/// <summary>The model being trained with its tokenizer and the prompt template of its task.</summary>
public sealed class Policy(CausalLm model, ITokenizer tokenizer, PromptTemplate template) : IDisposable
{
    public CausalLm Model => model;
    public ITokenizer Tokenizer => tokenizer;
    public PromptTemplate Template => template;

    /// <summary>Counts changes to the weights: stages call <see cref="Changed"/> after each optimizer step.</summary>
    public long Revision { get; private set; }

    /// <summary>The engine version that last published these weights, and the revision it held.</summary>
    public (long Version, long Revision)? PublishedAs { get; set; }

    public void Changed() => Revision++;

    /// <summary>Token ids of the prompt for a bare question.</summary>
    public int[] Prompt(string question) => tokenizer.Encode(template.Render(question));

    /// <summary>Token ids of a problem's target completion, ending with end-of-sequence: its verbatim solution, or its reasoning and answer in the R1 format.</summary>
    public int[] TargetCompletion(Problem problem)
    {
        var text = problem.Solution ?? (problem.Reasoning is { } reasoning ? PromptTemplate.Completion(reasoning, problem.Answer)
            : throw new InvalidOperationException($"problem {problem.Id} has no solution or worked reasoning to learn from"));
        return [.. tokenizer.Encode(text), tokenizer.EosId];
    }

    public void Dispose() => model.Dispose();
}
