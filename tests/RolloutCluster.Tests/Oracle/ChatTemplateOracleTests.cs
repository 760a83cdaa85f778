using System.Text.Json.Nodes;
using RolloutCluster.Model;
using RolloutCluster.Model.Jinja;
using RolloutCluster.Model.Tokenizers;

namespace RolloutCluster.Tests.Oracle;

/// <summary>
/// The chat templates of Qwen3 (tools, enable_thinking, reasoning in assistant turns), Llama 3 and
/// DeepSeek-R1 (tool calls and outputs) rendered by our Jinja interpreter and by @huggingface/jinja,
/// on 36 conversations each: identical text.
/// </summary>
public sealed class ChatTemplateOracleTests
{
    static JsonObject Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    static readonly string[] UserTexts =
    [
        "What is 37 + 485?", "안녕하세요! 오늘 서울 날씨는 어때요?", "Write a Python function that reverses a string.\n```python\ndef rev(s):\n    ...\n```",
        "Explain 🚀 and 👨‍👩‍👧 in one line.", "深度学习是什么？请简要说明。", "  spaces around  ", "Line one\nLine two\n\nLine four", "Quote \"this\" and 'that' \\ backslash",
    ];

    static readonly string[] AssistantTexts =
    [
        "37 + 485 = 522.", "<think>\nThe user wants a sum.\n7+5=12, carry 1...\n</think>\n\nThe answer is 522.", "```python\ndef rev(s):\n    return s[::-1]\n```",
        "🚀 = rocket, 👨‍👩‍👧 = family.", "서울은 맑습니다.", "<think>short</think>Done.",
    ];

    /// <summary>36 conversations: 1-7 turns, with or without a system prompt, ending on the user or the assistant.</summary>
    public static List<JsonArray> Conversations(bool tools)
    {
        var random = new Random(7);
        var list = new List<JsonArray>();
        for (int n = 0; n < 36; n++)
        {
            var messages = new JsonArray();
            if (n % 3 != 0) messages.Add(Message("system", n % 2 == 0 ? "You are a helpful assistant." : "Réponds brièvement. 한국어도 돼요 ✨"));
            int turns = 1 + n % 4;
            for (int t = 0; t < turns; t++)
            {
                messages.Add(Message("user", UserTexts[random.Next(UserTexts.Length)]));
                if (tools && n % 4 == 1 && t == 0)
                {
                    messages.Add(new JsonObject
                    {
                        ["role"] = "assistant", ["content"] = n % 8 == 1 ? "" : "Let me check.",
                        ["tool_calls"] = new JsonArray(new JsonObject
                        {
                            ["type"] = "function",
                            ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = new JsonObject { ["city"] = "서울", ["unit"] = "celsius", ["days"] = 3 } },
                        }),
                    });
                    messages.Add(Message("tool", "{\"temperature\": 21.5, \"sky\": \"clear ☀\"}"));
                }
                if (t < turns - 1 || n % 2 == 0) messages.Add(Message("assistant", AssistantTexts[random.Next(AssistantTexts.Length)]));
            }
            list.Add(messages);
        }
        return list;
    }

    static readonly JsonArray Tools =
    [
        new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = "get_weather", ["description"] = "Weather for a city (날씨)",
                ["parameters"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject { ["city"] = new JsonObject { ["type"] = "string" }, ["days"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1 } },
                    ["required"] = new JsonArray("city"),
                },
            },
        },
    ];

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    [InlineData("deepseek_v3")]
    public void Rendering_matches_huggingface_jinja(string model)
    {
        var path = Path.Combine(NodeOracle.Model(model), "tokenizer_config.json");
        var config = (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;
        var template = ChatTemplate.FromConfig(config, path);
        var requests = new List<(string Template, JsonObject Variables)>();
        var ours = new List<string>();
        int n = 0;
        foreach (var messages in Conversations(tools: model != "llama3"))
        {
            var extra = new JsonObject();
            if (model == "qwen3" && n % 3 == 1) extra["tools"] = Tools.DeepClone();
            if (model == "qwen3" && n % 4 != 0) extra["enable_thinking"] = n % 2 == 0;
            bool generation = n % 2 == 1;
            ours.Add(template.Render(messages, generation, extra));
            var variables = new JsonObject { ["messages"] = messages.DeepClone(), ["add_generation_prompt"] = generation };
            foreach (var (key, value) in config)
                if (key.EndsWith("_token", StringComparison.Ordinal))
                    variables[key] = value is JsonObject o ? o["content"]?.DeepClone() : value?.DeepClone();
            foreach (var (key, value) in extra) variables[key] = value?.DeepClone();
            requests.Add((template.Source, variables));
            n++;
        }
        var expected = NodeOracle.Render(requests);
        Assert.True(requests.Count >= 30);
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.True(expected[i].Error is null, $"the oracle failed on conversation {i}: {expected[i].Error}");
            Assert.True(expected[i].Text == ours[i], $"conversation {i} of {model} renders differently:\n--- oracle\n{expected[i].Text}\n--- ours\n{ours[i]}");
        }
    }

    [Fact]
    public void A_template_that_fails_names_the_template_line()
    {
        var template = new JinjaTemplate("line one\n{% for m in messages %}\n{{ m.content.nosuch() }}\n{% endfor %}");
        var e = Assert.Throws<JinjaException>(() => template.Render(new Dictionary<string, object?> { ["messages"] = JinjaValues.FromJson(new JsonArray(Message("user", "hi"))) }));
        Assert.StartsWith("template line 3:", e.Message);
        var syntax = Assert.Throws<JinjaException>(() => new JinjaTemplate("a\nb\n{% if x %}\nno end"));
        Assert.Equal("template line 4: missing '{% elif %}' or '{% else %}' or '{% endif %}'", syntax.Message);
        var raised = Assert.Throws<JinjaException>(() => new JinjaTemplate("\n{{ raise_exception('Conversation roles must alternate') }}").Render(new Dictionary<string, object?>()));
        Assert.Equal("template line 2: raise_exception: Conversation roles must alternate", raised.Message);
    }

    [Fact]
    public void A_checkpoint_without_a_chat_template_is_refused_by_name()
    {
        var e = Assert.Throws<ModelFormatException>(() => ChatTemplate.FromConfig(new JsonObject { ["eos_token"] = "</s>" }, "/m/tokenizer_config.json"));
        Assert.Contains("/m/tokenizer_config.json", e.Message);
        Assert.Contains("no chat_template", e.Message);
    }
}
