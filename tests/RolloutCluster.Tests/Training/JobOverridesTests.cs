using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Stages;

namespace RolloutCluster.Tests.Training;

/// <summary>`--set path=value` on job files: stages by name or index, fields the file lacks, and errors that name the override.</summary>
public sealed class JobOverridesTests
{
    const string Job = """
        name: unit
        model: { preset: tiny, threads: 1 }
        task: { dataset: builtin:arithmetic, template: r1-compact, test_size: 20 }
        rewards: [ { name: accuracy } ]
        stages:
          - { name: sft, kind: sft, steps: 10, optimizer: { lr: 1.0e-3 } }
          - name: grpo
            kind: grpo
            steps: 5
            prompts_per_step: 4
            group_size: 4
            sampling: { max_new_tokens: 16 }
            optimizer: { lr: 1.0e-4 }
        """;

    static JobSpec Parse(params string[] overrides) => JobFile.Parse(Job, "job.yaml", overrides);

    [Fact]
    public void Stages_are_addressed_by_name_or_index_and_missing_fields_are_added()
    {
        var spec = Parse("stages.grpo.steps=3", "stages[0].batch_size=4", "stages.grpo.kl.coef=0.05", "seed=9");
        var grpo = (GrpoStageSpec)spec.Stages[1];
        Assert.Equal((3, 0.05), (grpo.Steps, grpo.KlCoefficient));
        Assert.Equal(4, ((SftStageSpec)spec.Stages[0]).BatchSize);
        Assert.Equal(9, spec.Seed);
    }

    [Theory]
    [InlineData("stages.ppo.steps=3", "--set stages.ppo.steps=3: unknown path 'stages.ppo': no stage named 'ppo'; stages: sft, grpo")]
    [InlineData("stages[5].steps=3", "--set stages[5].steps=3: unknown path 'stages[5]': 'stages' has 2 item(s)")]
    [InlineData("stages.grpo.steps=three", "--set stages.grpo.steps=three: stages[1].steps: expected an integer, found \"three\"")]
    [InlineData("stages.grpo.stepz=3", "--set stages.grpo.stepz=3: stages[1].stepz: unknown field; known here:")]
    [InlineData("task.sampling.temperature=1", "--set task.sampling.temperature=1: task.sampling: unknown field; known here:")]
    [InlineData("steps", "--set steps: expected path=value, e.g. stages.grpo.steps=3")]
    public void Bad_overrides_are_refused_naming_the_override(string set, string message)
    {
        var e = Assert.Throws<JobSpecException>(() => Parse(set));
        Assert.Contains(message, e.Message);
    }
}
