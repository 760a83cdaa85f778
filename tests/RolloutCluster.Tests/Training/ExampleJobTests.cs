using RolloutCluster.Cli;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Tests.Training;

/// <summary>
/// The example jobs over public datasets (../shared/data) run as a user would run them: `rollout
/// validate` counts their rows, and `rollout run … --set` shrinks them to a few steps through the
/// embedded cluster. The tiny models do not learn these tasks; what is checked is that the user's
/// rows are read, prompted, sampled and rewarded (HumanEval's in the verifiers' sandboxes).
/// </summary>
public sealed class ExampleJobTests
{
    static async Task<(int Code, string Out, string Err)> Cli(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        int code = await CliApp.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    static string Example(string name) => RepoPaths.Of("examples", name);

    static string Shared(params string[] path) => Path.GetFullPath(Path.Combine([RepoPaths.Root, "..", "shared", "data", .. path]));

    /// <summary>The examples name ../shared/data relative to the repository; tests point at it absolutely (the working directory is the test host's).</summary>
    static string[] Data(string example) => example.Contains("gsm8k", StringComparison.Ordinal)
        ? ["--set", $"task.dataset={Shared("gsm8k", "train.jsonl")}", "--set", $"task.test={Shared("gsm8k", "test.jsonl")}"]
        : ["--set", $"task.dataset={Shared("humaneval", "HumanEval.jsonl")}"];

    [Fact]
    public async Task Validate_reads_gsm8k_and_prints_its_rows_and_stage_plan()
    {
        var (code, stdout, stderr) = await Cli(["validate", Example("gsm8k-grpo.yaml"), "--set", "stages.grpo.steps=3", .. Data("gsm8k")]);
        Assert.True(code == 0, stderr);
        Assert.Contains("(gsm8k): 7473 train rows, 1319 test rows", stdout);
        Assert.Contains("1. grpo (grpo): 3 steps of 8 prompts x 4 samples", stdout);
        (code, _, stderr) = await Cli(["validate", Example("gsm8k-grpo.yaml"), "--set", "stages.grpo.steps=three", .. Data("gsm8k")]);
        Assert.Equal(CliApp.BadInput, code);
        Assert.Equal("error: --set stages.grpo.steps=three: stages[0].steps: expected an integer, found \"three\"", stderr.Trim());
    }

    [Fact]
    public async Task The_qwen_example_validates_with_qwens_tokenizer_and_chat_template()
    {
        // A tiny model under Qwen's real tokenizer stands in for the 494M-parameter one the example names.
        var model = TinyModels.TempDir();
        var (code, stdout, stderr) = await Cli("init", model, "--preset", "tiny", "--tokenizer", RolloutCluster.Tests.Oracle.NodeOracle.Model("qwen3"));
        Assert.True(code == 0, stderr);
        Assert.Contains("tokenizer of 151669 ids", stdout);
        (code, stdout, stderr) = await Cli(["validate", Example("qwen2.5-0.5b-gsm8k.yaml"), "--set", $"model.checkpoint={model}", "--set", "model.lora.rank=16", .. Data("gsm8k")]);
        Assert.True(code == 0, stderr);
        Assert.Contains("(gsm8k): 7473 train rows, 1319 test rows", stdout);
        Assert.Contains("template chat", stdout);
        Assert.Contains("LoRA rank 16 alpha 32 on q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj", stdout);
    }

    [Trait("speed", "slow")]   // a whole job
    [Theory]
    [InlineData("gsm8k-grpo.yaml", "reward/math", "--set", "task.test_size=32")]
    [InlineData("humaneval-grpo.yaml", "reward/code", "--set", "evaluation.samples=1")]
    public async Task An_example_runs_through_the_embedded_cluster(string example, string reward, params string[] extra)
    {
        var output = TinyModels.TempDir();
        var (code, stdout, stderr) = await Cli(["run", Example(example), "--output", output, "--dashboard-port", "0", "--set", "stages.grpo.steps=2", .. Data(example), .. extra]);
        Assert.True(code == 0, stderr + stdout);
        var runDirectory = Directory.GetDirectories(output).Single();
        var rows = MetricsLog.Read(Path.Combine(runDirectory, "metrics.jsonl"));
        var steps = rows.Where(r => r.Kind == "train").ToList();
        Assert.Equal(2, steps.Count);
        Assert.All(steps, s => Assert.True(s.Values.ContainsKey(reward), reward));
        Assert.All(steps, s => Assert.True(s.Values["groups/trained"] > 0));
        var eval = rows.Single(r => r.Kind == "eval").Values;
        Assert.True(eval["eval/problems"] > 0);
        Assert.Contains(eval.Keys, k => k.StartsWith("eval/generator/", StringComparison.Ordinal) && k.EndsWith("/cpu", StringComparison.Ordinal));
    }
}
