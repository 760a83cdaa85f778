using RolloutCluster.Training.Jobs;
using RolloutCluster.Training.Stages;

namespace RolloutCluster.Tests.Training;

/// <summary>The reward-model stage's section of a job file.</summary>
public sealed class RewardModelStageTests
{
    const string Job = """
        name: rm
        model: { preset: tiny, threads: 1 }
        task: TASK
        rewards: REWARDS
        stages:
          - { name: rm, kind: reward-model, prompts: 64, samples: 4, held_out: 16, steps: 5, batch_size: 8, scope: SCOPE,
              sampling: { max_new_tokens: 16 }, optimizer: { lr: 1.0e-4 } }
        """;

    static string Text(string task = "{ dataset: builtin:arithmetic, template: r1-compact }", string rewards = "[ { name: accuracy }, { name: format, weight: 0.1 } ]", string scope = "answer") =>
        Job.Replace("TASK", task).Replace("REWARDS", rewards).Replace("SCOPE", scope);

    static string Write(string text)
    {
        var path = Path.Combine(TinyModels.TempDir(), "job.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_reward_model_stage_reads_its_fields_and_takes_the_jobs_verifier()
    {
        var spec = Assert.IsType<RewardModelStageSpec>(Assert.Single(JobFile.Load(Write(Text())).Stages));
        Assert.Equal((64, 4, 16, 5, 8, "answer", "accuracy"), (spec.Prompts, spec.Samples, spec.HeldOut, spec.Steps, spec.BatchSize, spec.Scope, spec.Correctness.Name));
        Assert.Equal("/tmp/x/reward-models/rm", RewardModelStageSpec.OutputPath("/tmp/x", "rm"));
    }

    [Fact]
    public void Without_a_verifier_an_unknown_scope_or_a_test_set_the_job_is_refused()
    {
        var noVerifier = Assert.Throws<JobSpecException>(() => JobFile.Load(Write(Text(rewards: "[ { name: format } ]"))));
        Assert.Contains("stages[0].kind: a reward-model stage learns its verifier's labels, but the job's rewards (format) have none", noVerifier.Message);
        var scope = Assert.Throws<JobSpecException>(() => JobFile.Load(Write(Text(scope: "vibes"))));
        Assert.Contains("stages[0].scope", scope.Message);
        var data = Path.Combine(TinyModels.TempDir(), "train.jsonl");
        File.WriteAllText(data, "{\"prompt\": \"1+1\", \"answer\": \"2\"}\n");
        var noTest = Assert.Throws<JobSpecException>(() => JobFile.Load(Write(Text(task: $"{{ dataset: {data} }}"))));
        Assert.Contains("the task has no test set: set task.test", noTest.Message);
    }
}
