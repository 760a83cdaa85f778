using RolloutCluster.Data;
using RolloutCluster.Rewards;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Stages;

/// <summary>A stage's <c>efforts:</c> list: the reasoning-effort levels its prompts ask for (<see cref="Effort"/>).</summary>
public static class EffortLevels
{
    /// <summary>The listed levels, each known and listed once; null when the stage has none.</summary>
    public static IReadOnlyList<string>? Parse(SpecMap s)
    {
        if (!s.Has("efforts")) return null;
        var nodes = s.List("efforts");
        var levels = s.StringList("efforts");
        for (int i = 0; i < levels.Count; i++)
        {
            if (!Effort.Levels.Contains(levels[i]))
                throw s.Error(nodes[i].Node, nodes[i].Path, $"unknown effort '{levels[i]}'; known: {string.Join(", ", Effort.Levels)}");
            if (levels.Take(i).Contains(levels[i])) throw s.Error(nodes[i].Node, nodes[i].Path, $"effort '{levels[i]}' is listed twice");
        }
        return levels.Count > 0 ? levels : throw s.ErrorAt("efforts", "expected at least one level; known: " + string.Join(", ", Effort.Levels));
    }

    /// <summary>Problem k of a stream asks for level k mod n, so every step's prompts spread evenly over the levels.</summary>
    public static IEnumerable<Problem> Assign(IEnumerable<Problem> problems, IReadOnlyList<string>? levels) =>
        levels is null ? problems : problems.Select((p, k) => p with { Effort = levels[k % levels.Count] });
}
