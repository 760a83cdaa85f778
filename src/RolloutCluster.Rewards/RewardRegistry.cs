using System.Globalization;
using RolloutCluster.Rewards.Sandbox;

namespace RolloutCluster.Rewards;

/// <summary>What reward functions may need besides their options: the code sandbox, an HTTP client, a judge.</summary>
public sealed class RewardServices
{
    public ICodeRunner? CodeRunner { get; init; }
    public HttpClient? Http { get; init; }
    public IAnswerJudge? Judge { get; init; }
    public IRewardModelSource? RewardModels { get; init; }
}

/// <summary>Reward functions by the names job files and `rollout score` use, each with its options.</summary>
public static class RewardRegistry
{
    static readonly Dictionary<string, string[]> Options = new(StringComparer.Ordinal)
    {
        ["math"] = [],
        ["accuracy"] = [],
        ["format"] = [],
        ["code"] = ["mode"],
        ["language"] = ["script"],
        ["length"] = ["effort", "budget", "low", "medium", "high"],
        ["http"] = ["url", "timeout_ms"],
        ["model"] = ["path", "output"],
    };

    public static IReadOnlyCollection<string> Names => Options.Keys;

    /// <summary>Option names a reward accepts: its own, and <c>scope</c>, which every reward takes (<see cref="ScopedReward"/>).</summary>
    public static IReadOnlyList<string> OptionsOf(string name) => Options.TryGetValue(name, out var o) ? [.. o, ScopedReward.Option] : [];

    /// <summary>Whether the reward runs code (so a sandbox must be started).</summary>
    public static bool NeedsSandbox(string name) => name == "code";

    /// <summary>
    /// Creates a reward function; an unknown name or option, or a bad option value, throws
    /// <see cref="ArgumentException"/> naming it.
    /// </summary>
    public static IRewardFunction Create(string name, IReadOnlyDictionary<string, string>? options = null, RewardServices? services = null)
    {
        if (!Options.TryGetValue(name, out var known))
            throw new ArgumentException($"unknown reward '{name}'; known: {string.Join(", ", Options.Keys)}");
        options ??= new Dictionary<string, string>();
        if (options.Keys.FirstOrDefault(k => !known.Contains(k) && k != ScopedReward.Option) is { } unknown)
            throw new ArgumentException($"reward '{name}' has no option '{unknown}'; known: {string.Join(", ", [.. known, ScopedReward.Option])}");
        string scope = options.TryGetValue(ScopedReward.Option, out var s) ? s : "trace";
        if (!ScopedReward.Scopes.Contains(scope))
            throw new ArgumentException($"reward '{name}': scope must be {string.Join(" or ", ScopedReward.Scopes)}, found '{scope}'");
        var function = CreateFunction(name, options, services);
        return scope == "answer" ? new ScopedReward(function) : function;
    }

    static IRewardFunction CreateFunction(string name, IReadOnlyDictionary<string, string> options, RewardServices? services)
    {
        string Get(string key, string fallback) => options.TryGetValue(key, out var v) ? v : fallback;
        return name switch
        {
            "math" => new MathReward("math", services?.Judge),
            "accuracy" => new AccuracyReward(),
            "format" => new FormatReward(),
            "code" => new CodeReward(services?.CodeRunner ?? throw new ArgumentException("reward 'code' needs the code sandbox"),
                Get("mode", "all") is "all" or "fraction" ? Get("mode", "all") : throw new ArgumentException($"reward 'code': mode must be all or fraction, found '{Get("mode", "")}'")),
            "language" => new LanguageReward(Get("script", "latin")),
            "length" => new LengthReward(Get("effort", "medium"), options.TryGetValue("budget", out var b) ? Int(name, "budget", b) : null,
                Effort.Levels.Where(options.ContainsKey).ToDictionary(level => level, level => Int(name, level, options[level]))),
            "http" => new HttpReward(services?.Http ?? throw new ArgumentException("reward 'http' needs an HTTP client"),
                Uri.TryCreate(Get("url", ""), UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url : throw new ArgumentException($"reward 'http': url must be an absolute http(s) URL, found '{Get("url", "")}'"),
                TimeSpan.FromMilliseconds(Int(name, "timeout_ms", Get("timeout_ms", "5000")))),
            "model" => Model(options, services),
            _ => throw new ArgumentException($"unknown reward '{name}'"),
        };
    }

    static ModelReward Model(IReadOnlyDictionary<string, string> options, RewardServices? services)
    {
        string path = options.TryGetValue("path", out var p) && p.Length > 0 ? p : throw new ArgumentException("reward 'model' needs path: a reward model's directory (or stage:NAME, an earlier reward-model stage's)");
        string output = options.TryGetValue("output", out var o) ? o : "probability";
        if (!ModelReward.Outputs.Contains(output)) throw new ArgumentException($"reward 'model': output must be {string.Join(" or ", ModelReward.Outputs)}, found '{output}'");
        var source = services?.RewardModels ?? throw new ArgumentException("reward 'model' is scored inside a job (its verifiers load the model and see each prompt as the policy read it); this command cannot load reward models");
        return new ModelReward(source.Open(path), path, output == "probability");
    }

    static int Int(string reward, string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) && x > 0 ? x
            : throw new ArgumentException($"reward '{reward}': {key} must be a positive integer, found '{value}'");
}
