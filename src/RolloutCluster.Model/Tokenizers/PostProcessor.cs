namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// tokenizer.json "post_processor": what encoding with special tokens adds around a sequence.
/// TemplateProcessing ("$A" between special tokens, e.g. Llama 3's &lt;|begin_of_text|&gt; $A) adds ids;
/// ByteLevel changes only offsets, so it adds nothing here.
/// </summary>
public abstract record PostProcessor
{
    public abstract int[] Apply(int[] ids);

    public sealed record None : PostProcessor
    {
        public override int[] Apply(int[] ids) => ids;
    }

    /// <summary>The single-sequence template as a list of items: special token ids, or null for the sequence itself.</summary>
    public sealed record Template(IReadOnlyList<int[]?> Items) : PostProcessor
    {
        public override int[] Apply(int[] ids) => Items.SelectMany(item => item ?? ids).ToArray();
    }

    public sealed record Sequence(IReadOnlyList<PostProcessor> Steps) : PostProcessor
    {
        public override int[] Apply(int[] ids) => Steps.Aggregate(ids, (x, step) => step.Apply(x));
    }
}
