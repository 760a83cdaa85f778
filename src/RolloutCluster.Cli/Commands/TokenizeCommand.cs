using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using RolloutCluster.Model.Tokenizers;

namespace RolloutCluster.Cli.Commands;

/// <summary>
/// `rollout tokenize --tokenizer PATH --input rows.jsonl --output out.jsonl`: each row gains "ids"
/// (its text field encoded), or with --decode, "text" (its ids decoded). PATH is a checkpoint
/// directory or a tokenizer.json.
/// </summary>
public static class TokenizeCommand
{
    public static Command Create(Io io)
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "A checkpoint directory or a tokenizer.json", Required = true };
        var input = new Option<string>("--input") { Description = "JSONL rows", Required = true };
        var output = new Option<string?>("--output") { Description = "Where to write the rows (default: stdout)" };
        var field = new Option<string>("--field") { Description = "The text field to encode", DefaultValueFactory = _ => "text" };
        var decode = new Option<bool>("--decode") { Description = "Decode each row's \"ids\" into \"text\" instead" };
        var special = new Option<bool>("--add-special-tokens") { Description = "Let the post-processor add its special tokens (e.g. a BOS)" };
        var skip = new Option<bool>("--skip-special-tokens") { Description = "With --decode: leave special tokens out of the text" };
        var command = new Command("tokenize", "Encode a JSONL field with a Hugging Face tokenizer (or decode ids)") { tokenizer, input, output, field, decode, special, skip };
        command.SetAction(async (parse, cancellation) =>
        {
            var tok = Load(parse.GetValue(tokenizer)!);
            var path = parse.GetValue(input)!;
            if (!File.Exists(path)) throw new UserInputException($"{path}: input file not found");
            await using var sink = parse.GetValue(output) is { } o ? new StreamWriter(o) : null;
            var writer = (TextWriter?)sink ?? io.Out;
            string name = parse.GetValue(field)!;
            int line = 0;
            foreach (var text in File.ReadLines(path))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                var row = Row(path, line, text);
                if (parse.GetValue(decode))
                {
                    var ids = row["ids"] as JsonArray ?? throw new UserInputException($"{path}:{line}: missing field 'ids' (a list of token ids)");
                    int[] values;
                    try { values = ids.Select(x => x!.GetValue<int>()).ToArray(); }
                    catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException) { throw new UserInputException($"{path}:{line}: field 'ids' must be a list of integers"); }
                    try { row["text"] = tok.Decode(values, parse.GetValue(skip)); }
                    catch (ArgumentOutOfRangeException e) { throw new UserInputException($"{path}:{line}: {e.Message.Split(" (Parameter")[0]}"); }
                }
                else
                {
                    var value = row[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
                        : throw new UserInputException($"{path}:{line}: missing string field '{name}'");
                    row["ids"] = new JsonArray(tok.Encode(value, parse.GetValue(special)).Select(i => (JsonNode)i).ToArray());
                }
                await writer.WriteLineAsync(row.ToJsonString(Json));
            }
            await writer.FlushAsync(cancellation);
            return 0;
        });
        return command;
    }

    internal static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal static JsonObject Row(string path, int line, string text)
    {
        try { return JsonNode.Parse(text) as JsonObject ?? throw new UserInputException($"{path}:{line}: expected a JSON object"); }
        catch (JsonException e) { throw new UserInputException($"{path}:{line}: not valid JSON: {e.Message}"); }
    }

    /// <summary>A tokenizer from a checkpoint directory or a tokenizer.json path.</summary>
    internal static ITokenizer Load(string path) =>
        TokenizerJson.Load(Directory.Exists(path) ? Path.Combine(path, "tokenizer.json") : path);
}
