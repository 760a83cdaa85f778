using RolloutCluster.Algorithms;
using static TorchSharp.torch;

namespace RolloutCluster.Tests.Algorithms;

/// <summary>Advantages of a hand-worked batch: a mixed group, an all-equal group and a graded group.</summary>
public sealed class AdvantageTests
{
    static readonly float[,] Rewards = { { 1, 0, 0, 1 }, { 1, 1, 1, 1 }, { 0.5f, 0, 1, 0.5f } };

    static float[] Run(string name) => Advantages.Registry.Get(name)(tensor(Rewards), 1e-6).Advantages.flatten().data<float>().ToArray();

    static void Near(double[] expected, float[] actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < tolerance, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Grpo_normalises_by_the_groups_unbiased_std()
    {
        // Group 0: mean .5, std sqrt(1/3); group 2: mean .5, std sqrt(1/6).
        double a = 0.5 / Math.Sqrt(1.0 / 3), b = 0.5 / Math.Sqrt(1.0 / 6);
        Near([a, -a, -a, a, 0, 0, 0, 0, 0, -b, b, 0], Run("grpo"));
    }

    [Fact]
    public void Dr_grpo_only_subtracts_the_mean()
    {
        Near([0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0, 0, -0.5, 0.5, 0], Run("dr_grpo"));
    }

    [Fact]
    public void Rloo_subtracts_the_mean_of_the_others()
    {
        Near([2.0 / 3, -2.0 / 3, -2.0 / 3, 2.0 / 3, 0, 0, 0, 0, 0, -2.0 / 3, 2.0 / 3, 0], Run("rloo"));
    }

    [Theory]
    [InlineData("grpo")]
    [InlineData("dr_grpo")]
    [InlineData("rloo")]
    public void An_all_equal_group_gets_exactly_zero(string name)
    {
        var rewards = tensor(new float[,] { { 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f }, { 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f } });
        var (advantages, metrics) = Advantages.Registry.Get(name)(rewards, 1e-6);
        Assert.True(advantages.eq(0).all().item<bool>());
        Assert.Equal(2, metrics["batch/zero_variance_groups"]);
    }

    [Fact]
    public void Unknown_estimators_list_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => Advantages.Registry.Get("ppo"));
        Assert.Contains("grpo, dr_grpo, rloo", e.Message);
    }
}
