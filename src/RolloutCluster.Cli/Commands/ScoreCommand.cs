using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using RolloutCluster.Data;
using RolloutCluster.Data.Datasets;
using RolloutCluster.Rewards;
using RolloutCluster.Rewards.Sandbox;

namespace RolloutCluster.Cli.Commands;

/// <summary>
/// `rollout score --input F`: scores completions offline with any rewards, writing each row back with
/// "reward", "rewards", "reasons" and "ms", and a summary line on stderr.
/// </summary>
public static class ScoreCommand
{
    public static Command Create(Io io)
    {
        var input = new Option<string>("--input") { Description = "JSONL of rows to score", Required = true };
        var format = new Option<string>("--format") { Description = "generic (rows carry a completion), gsm8k (scores each reference solution), humaneval (scores canonical solutions, or a completion field)", DefaultValueFactory = _ => "generic" };
        format.AcceptOnlyFromAmong("generic", "gsm8k", "humaneval");
        var rewards = new Option<string?>("--rewards") { Description = "Comma-separated rewards with options, e.g. math,format or code:mode=fraction or length:effort=low (default: code for humaneval, math otherwise)" };
        var output = new Option<string?>("--output") { Description = "Where to write scored rows (default: stdout)" };
        var skip = new Option<bool>("--skip-bad-lines") { Description = "Skip and count malformed rows instead of rejecting the file" };
        var lanes = new Option<int>("--lanes") { Description = "Sandbox lanes (parallel code runs)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var isolation = new Option<string>("--isolation") { Description = "Sandbox isolation: full, no-cgroups, none (none runs code unsandboxed)", DefaultValueFactory = _ => "full" };
        isolation.AcceptOnlyFromAmong("full", "no-cgroups", "none");
        var timeout = new Option<double>("--timeout") { Description = "Wall-clock seconds per program", DefaultValueFactory = _ => 15 };
        var command = new Command("score", "Score completions offline with reward functions") { input, format, rewards, output, skip, lanes, isolation, timeout };
        command.SetAction(async (parse, cancellation) =>
        {
            var fmt = parse.GetValue(format)!;
            var specs = ParseRewards(parse.GetValue(rewards) ?? (fmt == "humaneval" ? "code" : "math"));
            var rows = ReadRows(parse.GetValue(input)!, fmt, parse.GetValue(skip));
            foreach (var e in rows.Errors) await io.Error.WriteLineAsync($"skipped: {e}");
            var sandbox = new SandboxOptions
            {
                Lanes = Math.Max(1, parse.GetValue(lanes)),
                WallSeconds = parse.GetValue(timeout),
                CpuSeconds = parse.GetValue(timeout),
                Isolation = parse.GetValue(isolation) switch { "none" => SandboxIsolation.None, "no-cgroups" => SandboxIsolation.NoCgroups, _ => SandboxIsolation.Full },
            };
            using var loggers = Logging.Stderr();
            await using var sets = new RewardSets(sandbox, loggers.CreateLogger("sandbox"));
            RewardSet set;
            try { set = await sets.GetAsync(specs, cancellation); }
            catch (SandboxUnavailableException e) { throw new UserInputException(e.Message); }

            var clock = Stopwatch.StartNew();
            var results = new (RewardBreakdown Score, double Ms)[rows.Rows.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, rows.Rows.Count),
                new ParallelOptions { MaxDegreeOfParallelism = sandbox.Lanes * 2, CancellationToken = cancellation }, async (i, ct) =>
                {
                    var started = Stopwatch.GetTimestamp();
                    var score = await set.ScoreAsync(rows.Rows[i].Item, ct);
                    results[i] = (score, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                });
            double seconds = clock.Elapsed.TotalSeconds;

            await using var sink = parse.GetValue(output) is { } path ? new StreamWriter(path) : null;
            var writer = (TextWriter?)sink ?? io.Out;
            for (int i = 0; i < rows.Rows.Count; i++)
            {
                var row = rows.Rows[i].Raw.Row.DeepClone().AsObject();
                var (score, ms) = results[i];
                row["reward"] = score.Total;
                row["rewards"] = new JsonObject(score.Values.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
                row["reasons"] = new JsonObject(score.Reasons.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
                row["ms"] = Math.Round(ms, 2);
                await writer.WriteLineAsync(row.ToJsonString(Json));
            }
            await writer.FlushAsync(cancellation);
            await io.Error.WriteLineAsync(Summary(rows, results.Select(r => r.Score).ToList(), specs, seconds));
            return 0;
        });
        return command;
    }

    static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>"math,format,length:effort=low,code:mode=fraction".</summary>
    static List<RewardSpec> ParseRewards(string text)
    {
        var specs = new List<RewardSpec>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':', 2);
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            if (parts.Length == 2)
            {
                foreach (var pair in parts[1].Split(';', StringSplitOptions.RemoveEmptyEntries))
                {
                    var kv = pair.Split('=', 2);
                    if (kv.Length != 2) throw new UserInputException($"--rewards: '{pair}' in '{item}' is not option=value");
                    options[kv[0]] = kv[1];
                }
            }
            try { RewardRegistry.Create(parts[0], options, new RewardServices { CodeRunner = new SubprocessRunner(new SandboxOptions()), Http = new HttpClient() }); }
            catch (ArgumentException e) { throw new UserInputException($"--rewards: {e.Message}"); }
            specs.Add(new RewardSpec(parts[0], 1.0, options));
        }
        if (specs.Count == 0) throw new UserInputException("--rewards: no reward named");
        return specs;
    }

    static DatasetRows<RewardInput> ReadRows(string path, string format, bool skip) => DatasetFile.Read(path, (row, line) => format switch
    {
        "gsm8k" => Gsm8kRow(row, line),
        "humaneval" => HumanEvalRow(row, line),
        _ => GenericRow(row),
    }, skip);

    /// <summary>A row with a completion and what its rewards need (answer, prompt, tests as code or a list of statements, entry_point).</summary>
    static RewardInput GenericRow(JsonObject row)
    {
        bool cases = row["tests"] is JsonArray;
        return new RewardInput(ProblemFormats.Rows.Text(row, "completion"), ProblemFormats.Rows.OptionalText(row, "answer"), ProblemFormats.Rows.OptionalText(row, "prompt"),
            cases ? null : ProblemFormats.Rows.OptionalText(row, "tests"), ProblemFormats.Rows.OptionalText(row, "entry_point"), cases ? ProblemFormats.Rows.List(row, "tests") : null);
    }

    /// <summary>GSM8K: the row's own reference solution is the completion, scored against its final answer.</summary>
    static RewardInput Gsm8kRow(JsonObject row, int line)
    {
        var problem = ProblemFormats.Map("gsm8k", ProblemFormats.Columns("gsm8k", null), null, row, line);
        return new RewardInput(ProblemFormats.Rows.OptionalText(row, "completion") ?? ProblemFormats.Rows.Text(row, "answer"), problem.Answer, problem.Question);
    }

    /// <summary>HumanEval: prompt + canonical_solution (or the row's completion) + test + check(entry_point).</summary>
    static RewardInput HumanEvalRow(JsonObject row, int line)
    {
        var task = ProblemFormats.Map("humaneval", ProblemFormats.Columns("humaneval", null), null, row, line);
        return new RewardInput(ProblemFormats.Rows.OptionalText(row, "completion") ?? task.Solution!, null, task.Question, task.Tests, task.EntryPoint);
    }

    static string Summary(DatasetRows<RewardInput> rows, List<RewardBreakdown> scores, List<RewardSpec> specs, double seconds)
    {
        var parts = new List<string>
        {
            $"scored {scores.Count} rows{(rows.Skipped > 0 ? $" ({rows.Skipped} bad lines skipped)" : "")} in {seconds:F1} s",
            $"mean reward {scores.DefaultIfEmpty().Average(s => s?.Total ?? 0):F4}",
        };
        foreach (var name in specs.Select(s => s.Name).Distinct())
        {
            var values = scores.Select(s => s.Values[name]).ToList();
            parts.Add($"{name}: mean {values.Average():F4}, {values.Count(v => v >= 1)}/{values.Count} at 1");
        }
        if (specs.Any(s => RewardRegistry.NeedsSandbox(s.Name)))
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{scores.Count / Math.Max(seconds, 1e-9):F1} executions/s"));
        return string.Join("; ", parts);
    }
}
