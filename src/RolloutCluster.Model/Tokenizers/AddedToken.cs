namespace RolloutCluster.Model.Tokenizers;

/// <summary>A token matched verbatim in text before BPE runs (tokenizer.json "added_tokens").</summary>
public sealed record AddedToken(int Id, string Content, bool Special);
