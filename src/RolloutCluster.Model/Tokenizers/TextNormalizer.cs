using System.Text;

namespace RolloutCluster.Model.Tokenizers;

/// <summary>tokenizer.json "normalizer": Unicode normal forms, lowercasing, literal replacement, prepending, in sequence.</summary>
public abstract record TextNormalizer
{
    public abstract string Apply(string text);

    public sealed record Form(NormalizationForm Normalization) : TextNormalizer
    {
        public override string Apply(string text) => text.IsNormalized(Normalization) ? text : text.Normalize(Normalization);
    }

    public sealed record Lowercase : TextNormalizer
    {
        public override string Apply(string text) => text.ToLowerInvariant();
    }

    public sealed record Replace(string Pattern, string Content) : TextNormalizer
    {
        public override string Apply(string text) => Pattern.Length == 0 ? text : text.Replace(Pattern, Content, StringComparison.Ordinal);
    }

    public sealed record Prepend(string Prefix) : TextNormalizer
    {
        public override string Apply(string text) => text.Length == 0 ? text : Prefix + text;
    }

    public sealed record Sequence(IReadOnlyList<TextNormalizer> Steps) : TextNormalizer
    {
        public override string Apply(string text) => Steps.Aggregate(text, (t, step) => step.Apply(t));
    }
}
