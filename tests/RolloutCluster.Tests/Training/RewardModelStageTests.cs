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

    const string Later = """

          - name: rl
            kind: grpo
            steps: 2
            prompts_per_step: 2
            group_size: 2
            sampling: { max_new_tokens: 16 }
            optimizer: { lr: 1.0e-4 }
            rewards: [ { name: model, path: PATH }, { name: accuracy, weight: 0 } ]
        """;

    [Fact]
    public void A_grpo_stage_may_score_with_an_earlier_reward_model_stages_model()
    {
        var spec = JobFile.Load(Write(Text() + Later.Replace("PATH", "stage:rm")));
        var rl = Assert.IsType<GrpoStageSpec>(spec.Stages[1]);
        Assert.Equal("stage:rm", rl.Rewards![0].Options!["path"]);
        var resolved = RewardModelReference.Resolve(rl.Rewards, "/runs/rm-job");
        Assert.Equal("/runs/rm-job/reward-models/rm", resolved[0].Options!["path"]);
        Assert.Equal(0, resolved[1].Weight);
    }

    [Fact]
    public void A_model_reward_must_name_an_earlier_reward_model_stage_or_a_reward_model_directory()
    {
        var notEarlier = Assert.Throws<JobSpecException>(() => JobFile.Load(Write(Text() + Later.Replace("PATH", "stage:rl"))));
        Assert.Contains("stages[1].rewards[0].path: \"rl\" is not an earlier reward-model stage; earlier ones: rm", notEarlier.Message);
        var jobLevel = Assert.Throws<JobSpecException>(() => JobFile.Load(Write(Text(rewards: "[ { name: accuracy }, { name: model, path: stage:rm } ]"))));
        Assert.Contains("rewards[1].path: the job's rewards serve every stage", jobLevel.Message);
        using var policy = TinyModels.Create();
        var dir = TinyModels.TempDir();
        RolloutCluster.Model.Checkpoints.Checkpoint.Save(dir, policy, TinyModels.Tokenizer);
        var notRm = Assert.Throws<JobSpecException>(() => JobFile.Load(Write(Text() + Later.Replace("PATH", dir))));
        Assert.Contains("stages[1].rewards[0].path: ", notRm.Message);
        Assert.Contains("not a reward model: it has no scalar head", notRm.Message);
        var missing = Assert.Throws<JobSpecException>(() => JobFile.Load(Write(Text() + Later.Replace("PATH", "/no/such/rm"))));
        Assert.Contains("reward model directory not found", missing.Message);
    }
}
