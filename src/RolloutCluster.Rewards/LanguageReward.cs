using System.Globalization;

namespace RolloutCluster.Rewards;

/// <summary>
/// Language consistency (DeepSeek-R1's reward against language mixing): the share of letters in the
/// completion that belong to the target script. Markup tags are ignored; a completion without
/// letters scores 1: nothing in it is in another language (scoring it 0 made letters pay on
/// symbol-only tasks such as arithmetic, where only broken completions hold any).
/// </summary>
public sealed class LanguageReward(string script = "latin") : IRewardFunction
{
    static readonly Dictionary<string, (int From, int To)[]> Scripts = new(StringComparer.OrdinalIgnoreCase)
    {
        ["latin"] = [(0x0041, 0x024F), (0x1E00, 0x1EFF)],
        ["cyrillic"] = [(0x0400, 0x052F)],
        ["greek"] = [(0x0370, 0x03FF)],
        ["arabic"] = [(0x0600, 0x06FF), (0x0750, 0x077F)],
        ["hebrew"] = [(0x0590, 0x05FF)],
        ["devanagari"] = [(0x0900, 0x097F)],
        ["han"] = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF)],
        ["japanese"] = [(0x3040, 0x30FF), (0x4E00, 0x9FFF)],
        ["hangul"] = [(0xAC00, 0xD7AF), (0x1100, 0x11FF)],
        ["thai"] = [(0x0E00, 0x0E7F)],
    };

    public static IReadOnlyCollection<string> KnownScripts => Scripts.Keys;

    readonly (int From, int To)[] _ranges = Scripts.TryGetValue(script, out var r) ? r
        : throw new ArgumentException($"unknown script '{script}'; known: {string.Join(", ", Scripts.Keys)}");

    public string Name => "language";

    public ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default)
    {
        var (share, letters) = Share(input.Completion);
        if (letters == 0) return ValueTask.FromResult(new RewardResult(1, "no letters: nothing in another script"));
        return ValueTask.FromResult(new RewardResult(share, string.Create(CultureInfo.InvariantCulture, $"{share:P0} of {letters} letters in {script}")));
    }

    /// <summary>The share of the text's letters (markup tags aside) in this reward's script, and how many letters there are.</summary>
    public (double Share, int Letters) Share(string completion)
    {
        var text = System.Text.RegularExpressions.Regex.Replace(completion, "</?[a-zA-Z_]+>", " ");
        int letters = 0, inScript = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (!System.Text.Rune.IsLetter(rune)) continue;
            letters++;
            if (_ranges.Any(x => rune.Value >= x.From && rune.Value <= x.To)) inScript++;
        }
        return (letters == 0 ? 0 : (double)inScript / letters, letters);
    }
}
