using RolloutCluster.Model.Lora;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Tests.Training;

/// <summary>model.lora and model.adapter in job files: defaults, and every bad setting named with its position.</summary>
public sealed class JobFileLoraTests
{
    const string Job = """
        name: lora
        seed: 3
        model: { preset: tiny, init_seed: 2, threads: 1, lora: { rank: 8, target_modules: [q_proj, v_proj] } }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 10 }
        rewards: [ { name: accuracy, weight: 1.0 } ]
        stages:
          - { name: rl, kind: grpo, steps: 2, prompts_per_step: 2, group_size: 2, sampling: { max_new_tokens: 8 }, optimizer: { lr: 1.0e-3 } }
        """;

    static string Write(string text)
    {
        var path = Path.Combine(TinyModels.TempDir(), "job.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Lora_settings_are_read_with_alpha_twice_the_rank_by_default()
    {
        var spec = JobFile.Load(Write(Job));
        var lora = spec.Model.Lora!;
        Assert.Equal((8, 16.0, 0.0), (lora.Rank, lora.Alpha, lora.Dropout));
        Assert.Equal(["q_proj", "v_proj"], lora.TargetModules);
        Assert.Equal("tiny", lora.BaseModel);
        Assert.Equal(LoraConfig.Modules, JobFile.Load(Write(Job.Replace(", target_modules: [q_proj, v_proj]", ""))).Model.Lora!.TargetModules);
    }

    [Theory]
    [InlineData("target_modules: [q_proj, v_proj]", "target_modules: [q_proj, c_attn]", "model.lora.target_modules: unknown module \"c_attn\"; known: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj")]
    [InlineData("rank: 8", "rank: 0", "model.lora.rank: expected an integer in [1, 4096], found 0")]
    [InlineData("rank: 8", "rank: 8, dropout: 1.5", "model.lora.dropout: expected a number in [0, 0.99]")]
    [InlineData("rank: 8", "rank: 8, alpha: 0", "model.lora.alpha: expected a number > 0")]
    [InlineData("rank: 8", "rank: 8, scale: 2", "model.lora.scale")]
    [InlineData("threads: 1,", "threads: 1, sample_dtype: int8,", "model.sample_dtype: expected one of float32, bfloat16, float16")]
    [InlineData("target_modules: [q_proj, v_proj] }", "target_modules: [q_proj, v_proj], dropout: 0.1 }, activation_checkpointing: true", "model.activation_checkpointing: recomputing each layer needs it to compute the same thing twice; set lora.dropout to 0")]
    public void Bad_lora_settings_are_named_with_their_position(string from, string to, string message)
    {
        var e = Assert.Throws<JobSpecException>(() => JobFile.Load(Write(Job.Replace(from, to))));
        Assert.Matches(@"job\.yaml:\d+:\d+: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void An_adapter_for_another_base_model_is_refused_at_validation()
    {
        // An adapter saved from a model with 4 key/value heads; the job's base (tiny) has 2.
        var dir = TinyModels.TempDir();
        using (var model = TinyModels.Create(kvHeads: 4))
        {
            model.AttachLora(new LoraConfig(4, 8, 0, ["v_proj"], "some-other-model"), seed: 1);
            model.SaveAdapter(dir);
        }
        var job = Job.Replace("lora: { rank: 8, target_modules: [q_proj, v_proj] }", $"adapter: {dir}");
        var e = Assert.Throws<JobSpecException>(() => JobFile.Load(Write(job)));
        Assert.Matches(@"job\.yaml:3:\d+: model\.adapter: .*adapter_model\.safetensors: tensor 'base_model\.model\.model\.layers\.\d\.self_attn\.v_proj\.lora_(A|B)\.weight' has shape \[\d+, \d+\] but this base model needs \[\d+, \d+\]: the adapter was made for another base model \(the adapter names base model 'some-other-model'\)", e.Message);
        var both = Job.Replace("lora: { rank: 8, target_modules: [q_proj, v_proj] }", $"lora: {{ rank: 8 }}, adapter: {dir}");
        Assert.Contains("model.adapter: set lora or adapter, not both", Assert.Throws<JobSpecException>(() => JobFile.Load(Write(both))).Message);
    }
}
