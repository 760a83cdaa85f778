using System.Text.Json.Nodes;
using RolloutCluster.Data;
using RolloutCluster.Model;
using RolloutCluster.Model.Tokenizers;

namespace RolloutCluster.Training.Engine;

/// <summary>
/// A problem's prompt as token ids: its question in a prompt template, or, with the chat template,
/// the task's system message and the problem's conversation (or its question as one user turn)
/// rendered by the model's own chat template with a generation prompt.
/// </summary>
public sealed class PromptBuilder(ITokenizer tokenizer, PromptTemplate template, string? system = null, bool effortLast = false)
{
    readonly ChatTemplate? _chat = template == PromptTemplate.Chat ? ChatTemplateOf(tokenizer) : null;

    /// <summary>The chat template of a tokenizer's config; refused, naming what is missing, when it has none.</summary>
    public static ChatTemplate ChatTemplateOf(ITokenizer tokenizer) => tokenizer.Config is { } config
        ? ChatTemplate.FromConfig(config, "tokenizer_config.json")
        : throw new ModelFormatException("tokenizer_config.json", "no chat_template: this model's tokenizer has no chat template to render chat with (template: chat needs one)");

    public int[] Ids(Problem problem) => tokenizer.Encode(Text(problem));

    /// <summary>The prompt's text (special tokens written out, as the chat template writes them).</summary>
    public string Text(Problem problem)
    {
        var refinements = problem.Refinements ?? [];
        string? effort = problem.Effort is { } level ? Rewards.Effort.Directive(level) : null;
        // Without a chat template the question ends where the answer starts, as in the policy's training
        // (a trailing effort line cost the tiny model 48% -> 8% held-out even after an SFT on it): the
        // effort line opens the question unless asked to close it (a policy that learns it from the start),
        // and earlier attempts, each with its feedback on a line of its own, come before the question asked again.
        if (_chat is null)
        {
            string question = effort is null ? problem.Question : effortLast ? $"{problem.Question}\n{effort}" : $"{effort}\n{problem.Question}";
            string prompt = template.Render(question);
            return refinements.Count == 0 ? prompt : prompt + string.Concat(refinements.Select(r => $"{r.Attempt}\n{r.Feedback}\n")) + prompt;
        }
        var messages = new JsonArray();
        var turns = problem.Messages ?? [new ChatTurn("user", problem.Question)];
        // Under a chat template the effort line goes in the system message, as gpt-oss's "Reasoning: low" does.
        if (effort is not null && !turns.Any(t => t.Role == "system")) turns = [new ChatTurn("system", system is null ? effort : $"{system}\n{effort}"), .. turns];
        else if (effort is not null) turns = [.. turns.Select(t => t.Role == "system" ? t with { Content = $"{t.Content}\n{effort}" } : t)];
        if (system is not null && !turns.Any(t => t.Role == "system")) messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        foreach (var t in turns) messages.Add(new JsonObject { ["role"] = t.Role, ["content"] = t.Content });
        foreach (var r in refinements)
        {
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = r.Attempt });
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = r.Feedback });
        }
        return _chat.Render(messages, addGenerationPrompt: true);
    }
}
