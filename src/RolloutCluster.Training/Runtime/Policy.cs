using RolloutCluster.Data;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;

namespace RolloutCluster.Training.Runtime;

/// <summary>The model being trained with its tokenizer and the prompt template of its task.</summary>
public sealed class Policy(CausalLm model, ITokenizer tokenizer, PromptTemplate template) : IDisposable
{
    public CausalLm Model => model;
    public ITokenizer Tokenizer => tokenizer;
    public PromptTemplate Template => template;

    /// <summary>Token ids of the prompt for a bare question.</summary>
    public int[] Prompt(string question) => tokenizer.Encode(template.Render(question));

    /// <summary>Token ids of the target completion of a worked solution, ending with end-of-sequence.</summary>
    public int[] TargetCompletion(string reasoning, string answer) =>
        [.. tokenizer.Encode(PromptTemplate.Completion(reasoning, answer)), tokenizer.EosId];

    public void Dispose() => model.Dispose();
}
