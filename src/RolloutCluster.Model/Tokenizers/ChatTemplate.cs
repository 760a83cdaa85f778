using System.Text.Json.Nodes;
using RolloutCluster.Model.Jinja;

namespace RolloutCluster.Model.Tokenizers;

/// <summary>
/// A model's chat template (tokenizer_config.json "chat_template", Jinja), rendered as Hugging Face
/// renders it: messages, add_generation_prompt, tools, the special tokens of the config (bos_token,
/// eos_token, …) and any extra variables a template reads (enable_thinking, documents).
/// </summary>
public sealed class ChatTemplate
{
    readonly JinjaTemplate _template;
    readonly Dictionary<string, object?> _specialTokens;

    ChatTemplate(string source, Dictionary<string, object?> specialTokens)
    {
        Source = source;
        _template = new JinjaTemplate(source);
        _specialTokens = specialTokens;
    }

    /// <summary>The template's Jinja text.</summary>
    public string Source { get; }

    /// <summary>
    /// The chat template of a tokenizer_config.json (the default one when it lists several by name);
    /// a config without one is refused, naming the file.
    /// </summary>
    public static ChatTemplate FromConfig(JsonObject config, string source, string? name = null)
    {
        var text = config["chat_template"] switch
        {
            JsonValue v => v.GetValue<string>(),
            JsonArray list => list.OfType<JsonObject>().FirstOrDefault(t => t["name"]?.GetValue<string>() == (name ?? "default"))?["template"]?.GetValue<string>()
                ?? throw new ModelFormatException(source, $"chat_template has no template named \"{name ?? "default"}\""),
            null => throw new ModelFormatException(source, "no chat_template: this tokenizer has no chat template to render chat with (use a prompt template instead)"),
            _ => throw new ModelFormatException(source, "chat_template must be a string or a list of {name, template}"),
        };
        var specials = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in config)
        {
            if (!key.EndsWith("_token", StringComparison.Ordinal)) continue;
            specials[key] = value switch
            {
                JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
                JsonObject o when o["content"] is JsonValue c => c.GetValue<string>(),
                _ => null,
            };
        }
        try { return new ChatTemplate(text, specials); }
        catch (JinjaException e) { throw new ModelFormatException(source, $"chat_template: {e.Message}"); }
    }

    /// <summary>Renders a conversation; extra variables (tools, enable_thinking, …) are passed as the template sees them.</summary>
    public string Render(JsonArray messages, bool addGenerationPrompt, JsonObject? extra = null, TimeProvider? time = null)
    {
        var variables = new Dictionary<string, object?>(_specialTokens, StringComparer.Ordinal)
        {
            ["messages"] = JinjaValues.FromJson(messages),
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        foreach (var (key, value) in extra ?? []) variables[key] = JinjaValues.FromJson(value);
        return _template.Render(variables, time);
    }
}
