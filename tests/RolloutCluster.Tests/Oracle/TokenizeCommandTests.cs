using System.Text.Json.Nodes;
using RolloutCluster.Cli;
using RolloutCluster.Model.Tokenizers;

namespace RolloutCluster.Tests.Oracle;

/// <summary>`rollout tokenize` and `rollout chat` on the real Qwen3 tokenizer files.</summary>
public sealed class TokenizeCommandTests
{
    static async Task<(int Code, string Out, string Err)> Cli(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        int code = await CliApp.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    static string Rows(params string[] lines)
    {
        var path = Path.Combine(TinyModels.TempDir(), "rows.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public async Task Tokenize_adds_ids_and_decode_gives_the_text_back()
    {
        var dir = NodeOracle.Model("qwen3");
        var input = Rows("{\"text\": \"Hello 세계 😀\", \"id\": 1}", "{\"text\": \"<|im_start|>user\\nhi<|im_end|>\"}");
        var (code, stdout, stderr) = await Cli("tokenize", "--tokenizer", dir, "--input", input);
        Assert.True(code == 0, stderr);
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        var tokenizer = TokenizerJson.Load(Path.Combine(dir, "tokenizer.json"));
        Assert.Equal(tokenizer.Encode("Hello 세계 😀"), rows[0]["ids"]!.AsArray().Select(x => x!.GetValue<int>()));
        Assert.Equal(1, rows[0]["id"]!.GetValue<int>());
        var encoded = Rows([.. rows.Select(r => r.ToJsonString())]);
        (code, stdout, stderr) = await Cli("tokenize", "--tokenizer", dir, "--input", encoded, "--decode");
        Assert.True(code == 0, stderr);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>", JsonNode.Parse(stdout.Split('\n')[1])!["text"]!.GetValue<string>());
        (code, _, stderr) = await Cli("tokenize", "--tokenizer", dir, "--input", Rows("{\"ids\": [1, 999999999]}"), "--decode");
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains(":1: token id 999999999 is outside the vocabulary", stderr);
    }

    [Fact]
    public async Task Chat_renders_each_conversation_with_the_models_template()
    {
        var dir = NodeOracle.Model("qwen3");
        var input = Rows("{\"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"}], \"add_generation_prompt\": true, \"enable_thinking\": false}");
        var (code, stdout, stderr) = await Cli("chat", "--tokenizer", dir, "--input", input);
        Assert.True(code == 0, stderr);
        Assert.Equal("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", JsonNode.Parse(stdout)!["rendered"]!.GetValue<string>());
    }

    [Fact]
    public async Task Chat_with_a_checkpoint_without_a_template_says_so()
    {
        var dir = TinyModels.TempDir();
        using (var model = TinyModels.Create()) RolloutCluster.Model.Checkpoints.Checkpoint.Save(dir, model, TinyModels.Tokenizer);
        var (code, _, stderr) = await Cli("chat", "--tokenizer", dir, "--input", Rows("{\"messages\": []}"));
        Assert.Equal(CliApp.BadInput, code);
        Assert.Contains("no chat_template", stderr);
    }
}
