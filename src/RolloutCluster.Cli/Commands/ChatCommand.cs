using System.CommandLine;
using System.Text.Json.Nodes;
using RolloutCluster.Model;
using RolloutCluster.Model.Jinja;
using RolloutCluster.Model.Tokenizers;

namespace RolloutCluster.Cli.Commands;

/// <summary>
/// `rollout chat --tokenizer DIR --input conversations.jsonl --output out.jsonl`: renders each row's
/// "messages" with the model's chat template (add_generation_prompt, optional tools and
/// enable_thinking, and any other "variables"); each row gains "rendered".
/// </summary>
public static class ChatCommand
{
    public static Command Create(Io io)
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "A checkpoint directory (or its tokenizer_config.json)", Required = true };
        var input = new Option<string>("--input") { Description = "JSONL rows with \"messages\"", Required = true };
        var output = new Option<string?>("--output") { Description = "Where to write the rows (default: stdout)" };
        var ids = new Option<bool>("--ids") { Description = "Also encode the rendered text (\"ids\")" };
        var command = new Command("chat", "Render conversations with a model's chat template") { tokenizer, input, output, ids };
        command.SetAction(async (parse, cancellation) =>
        {
            var source = parse.GetValue(tokenizer)!;
            var configPath = Directory.Exists(source) ? Path.Combine(source, "tokenizer_config.json") : source;
            if (!File.Exists(configPath)) throw new UserInputException($"{configPath}: no tokenizer_config.json: this checkpoint has no chat template");
            var config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject ?? throw new UserInputException($"{configPath}: expected a JSON object");
            var template = ChatTemplate.FromConfig(config, configPath);
            var tok = parse.GetValue(ids) ? TokenizeCommand.Load(Directory.Exists(source) ? source : Path.GetDirectoryName(Path.GetFullPath(source))!) : null;
            var path = parse.GetValue(input)!;
            if (!File.Exists(path)) throw new UserInputException($"{path}: input file not found");
            await using var sink = parse.GetValue(output) is { } o ? new StreamWriter(o) : null;
            var writer = (TextWriter?)sink ?? io.Out;
            int line = 0;
            foreach (var text in File.ReadLines(path))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                var row = TokenizeCommand.Row(path, line, text);
                var messages = row["messages"] as JsonArray ?? throw new UserInputException($"{path}:{line}: missing field 'messages' (a list of {{role, content}})");
                var extra = new JsonObject();
                foreach (var key in new[] { "tools", "enable_thinking", "documents" })
                    if (row[key] is { } value) extra[key] = value.DeepClone();
                if (row["variables"] is JsonObject variables) foreach (var (k, v) in variables) extra[k] = v?.DeepClone();
                string rendered;
                try { rendered = template.Render(messages, row["add_generation_prompt"]?.GetValue<bool>() ?? false, extra); }
                catch (JinjaException e) { throw new UserInputException($"{path}:{line}: {configPath}: chat_template: {e.Message}"); }
                row["rendered"] = rendered;
                if (tok is not null) row["ids"] = new JsonArray(tok.Encode(rendered).Select(i => (JsonNode)i).ToArray());
                await writer.WriteLineAsync(row.ToJsonString(TokenizeCommand.Json));
            }
            await writer.FlushAsync(cancellation);
            return 0;
        });
        return command;
    }
}
