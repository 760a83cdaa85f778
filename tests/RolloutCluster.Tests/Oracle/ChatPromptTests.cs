using System.Text.Json.Nodes;
using RolloutCluster.Cli;
using RolloutCluster.Data;
using RolloutCluster.Model.Checkpoints;
using RolloutCluster.Model.Tokenizers;
using RolloutCluster.Model.Transformer;
using RolloutCluster.Training.Engine;
using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Runtime;

namespace RolloutCluster.Tests.Oracle;

/// <summary>Tasks with template: chat: prompts are the model's own chat template over the task's system message and each problem's conversation.</summary>
public sealed class ChatPromptTests
{
    static ITokenizer Qwen3 => TokenizerJson.Load(Path.Combine(NodeOracle.Model("qwen3"), "tokenizer.json"));

    /// <summary>A tiny random model with Qwen3's tokenizer and chat template, saved as a checkpoint.</summary>
    static string Checkpoint()
    {
        var dir = TinyModels.TempDir();
        var tokenizer = Qwen3;
        using var model = new CausalLm(TinyModels.Config() with { VocabSize = tokenizer.VocabSize, NumHiddenLayers = 1, HiddenSize = 32, IntermediateSize = 64, NumAttentionHeads = 2, NumKeyValueHeads = 1 });
        model.InitializeWeights(3);
        RolloutCluster.Model.Checkpoints.Checkpoint.Save(dir, model, tokenizer);
        return dir;
    }

    [Fact]
    public void A_question_becomes_a_system_and_user_turn_and_a_conversation_keeps_its_own_system()
    {
        var tokenizer = Qwen3;
        var prompts = new PromptBuilder(tokenizer, PromptTemplate.Chat, "Answer briefly.");
        Assert.Equal("<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\nCompute: 1 + 2<|im_end|>\n<|im_start|>assistant\n",
            prompts.Text(new Problem("1", "Compute: 1 + 2", "3")));
        var chat = new Problem("2", "And 2+2?", "4") { Messages = [new ChatTurn("system", "Be exact."), new ChatTurn("user", "1+1?"), new ChatTurn("assistant", "2"), new ChatTurn("user", "And 2+2?")] };
        var text = prompts.Text(chat);
        Assert.StartsWith("<|im_start|>system\nBe exact.<|im_end|>", text);
        Assert.DoesNotContain("Answer briefly.", text);
        Assert.Equal(tokenizer.Encode(text), prompts.Ids(chat));
        Assert.Contains(tokenizer.TokenToId("<|im_start|>")!.Value, prompts.Ids(chat));
    }

    [Fact]
    public void Effort_joins_the_system_message_and_refinements_become_assistant_and_user_turns()
    {
        var prompts = new PromptBuilder(Qwen3, PromptTemplate.Chat, "Answer briefly.");
        var problem = new Problem("1", "Compute: 1 + 2", "3") { Effort = "low" };
        Assert.Equal("<|im_start|>system\nAnswer briefly.\nReasoning effort: low<|im_end|>\n<|im_start|>user\nCompute: 1 + 2<|im_end|>\n<|im_start|>assistant\n",
            prompts.Text(problem));
        Assert.StartsWith("<|im_start|>system\nReasoning effort: high<|im_end|>\n", new PromptBuilder(Qwen3, PromptTemplate.Chat).Text(problem with { Effort = "high" }));
        var retried = prompts.Text(problem with { Effort = null, Refinements = [new("<answer>4</answer>", "Feedback: 4 is not the correct answer. Try again.")] });
        Assert.EndsWith("<|im_start|>user\nCompute: 1 + 2<|im_end|>\n<|im_start|>assistant\n<answer>4</answer><|im_end|>\n" +
            "<|im_start|>user\nFeedback: 4 is not the correct answer. Try again.<|im_end|>\n<|im_start|>assistant\n", retried);
    }

    [Fact]
    public void Chat_without_a_chat_template_and_a_system_message_without_chat_are_refused_at_validation()
    {
        const string Job = """
            name: chat
            model: { preset: tiny }
            task: { dataset: builtin:arithmetic, template: chat }
            rewards: [ { name: accuracy } ]
            stages: [ { name: s, kind: sft, steps: 1, optimizer: { lr: 1.0e-3 } } ]
            """;
        var e = Assert.Throws<JobSpecException>(() => JobFile.Parse(Job, "job.yaml"));
        Assert.Matches(@"^job\.yaml:3:\d+: task\.template: template: chat needs the model's chat template, but preset tiny has none", e.Message);
        e = Assert.Throws<JobSpecException>(() => JobFile.Parse(Job.Replace("template: chat", "template: r1-compact, system: hi"), "job.yaml"));
        Assert.Contains("task.system: a system message needs template: chat", e.Message);
    }

    [Trait("speed", "slow")]   // a whole job
    [Fact]
    public async Task A_chat_job_samples_from_chat_prompts_through_the_embedded_cluster()
    {
        var checkpoint = Checkpoint();
        var dir = TinyModels.TempDir();
        var job = Path.Combine(dir, "job.yaml");
        File.WriteAllText(job, $$"""
            name: chat-job
            seed: 2
            model: { checkpoint: {{checkpoint}}, threads: 1 }
            task: { dataset: builtin:arithmetic, template: chat, system: "Answer with the number.", test_size: 8 }
            rewards: [ { name: accuracy } ]
            stages:
              - { name: rl, kind: grpo, steps: 2, prompts_per_step: 2, group_size: 2, sampling: { max_new_tokens: 8 }, optimizer: { lr: 1.0e-4 } }
              - { name: check, kind: eval, samples: 1, max_new_tokens: 8 }
            """);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        int code = await CliApp.RunAsync(["run", job, "--output", Path.Combine(dir, "runs"), "--dashboard-port", "0"], stdout, stderr);
        Assert.True(code == 0, stderr.ToString() + stdout);
        var rows = MetricsLog.Read(Path.Combine(dir, "runs", "chat-job", "metrics.jsonl"));
        Assert.Equal(2, rows.Count(r => r.Kind == "train"));
        Assert.Equal(8, rows.Single(r => r.Kind == "eval").Values["eval/problems"]);
        // The saved checkpoint still renders chat as the original did.
        var saved = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "runs", "chat-job", "checkpoints", "rl", "tokenizer_config.json")))!;
        Assert.NotNull(saved["chat_template"]);
    }
}
