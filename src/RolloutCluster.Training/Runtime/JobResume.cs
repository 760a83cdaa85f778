using System.Text.Json;
using RolloutCluster.Training.Jobs;

namespace RolloutCluster.Training.Runtime;

/// <summary>
/// Continuing a job from a resumable checkpoint: metrics.jsonl is cut back to what the checkpoint
/// had seen (steps after it are redone, so they would otherwise appear twice), and the groups that
/// were dispatched after the checkpoint and died with the old process are counted as failed.
/// </summary>
public static class JobResume
{
    /// <summary>Truncates the run's metrics; returns the elapsed seconds the kept part covers and the groups discarded.</summary>
    public static (double ElapsedOffset, long Discarded) Prepare(JobSpec spec, string runDirectory, ResumePoint resume)
    {
        var path = Path.Combine(runDirectory, "metrics.jsonl");
        if (!File.Exists(path)) return (0, 0);
        var stageIndex = spec.Stages.Select((s, i) => (s.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var kept = new List<string>();
        double offset = 0;
        long lastDispatched = 0;
        bool cut = false;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement row;
            try { row = JsonDocument.Parse(line).RootElement; }
            catch (JsonException) { break; }   // a line cut short by the crash: everything before it is whole
            int index = stageIndex.GetValueOrDefault(row.GetProperty("stage").GetString()!, -1);
            int step = row.GetProperty("step").GetInt32();
            if (cut || index > resume.State.StageIndex || (index == resume.State.StageIndex && step > resume.State.StepsDone))
            {
                cut = true;
                if (index == resume.State.StageIndex && row.TryGetProperty("groups/dispatched", out var d)) lastDispatched = Math.Max(lastDispatched, (long)d.GetDouble());
                continue;
            }
            kept.Add(line);
            offset = row.GetProperty("elapsed_s").GetDouble();
        }
        File.WriteAllLines(path + ".tmp", kept);
        File.Move(path + ".tmp", path, overwrite: true);
        long atCheckpoint = resume.State.Groups?.GetValueOrDefault("dispatched") ?? 0;
        return (offset, Math.Max(0, lastDispatched - atCheckpoint));
    }

    /// <summary>The resume point with the discarded groups added to its failed count.</summary>
    public static ResumePoint WithDiscarded(ResumePoint resume, long discarded)
    {
        if (discarded == 0 || resume.State.Groups is null) return resume;
        var groups = new Dictionary<string, long>(resume.State.Groups, StringComparer.Ordinal);
        groups["dispatched"] = groups.GetValueOrDefault("dispatched") + discarded;
        groups["failed"] = groups.GetValueOrDefault("failed") + discarded;
        return resume with { State = resume.State with { Groups = groups } };
    }

    public static string Describe(ResumePoint resume, long discarded) =>
        $"resuming {resume.State.Stage} after step {resume.State.StepsDone} from {resume.Directory}" +
        (discarded > 0 ? $"; {discarded} group(s) dispatched after that checkpoint were lost with the old process and count as failed" : "");
}
