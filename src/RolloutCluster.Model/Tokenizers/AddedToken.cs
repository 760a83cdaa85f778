namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// A token matched verbatim in text before BPE runs (tokenizer.json "added_tokens"), with Hugging
/// Face's flags: SingleWord matches only between non-word characters; LStrip and RStrip take the
/// whitespace on that side into the token; Normalized tokens are matched in the normalised text,
/// the others (and every special token) in the raw text.
/// </summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord = false, bool LStrip = false, bool RStrip = false, bool Normalized = false);
