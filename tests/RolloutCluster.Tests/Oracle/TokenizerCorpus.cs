using System.Globalization;
using System.Text;

namespace RolloutCluster.Tests.Oracle;

/// <summary>
/// Strings that exercise a tokenizer: every Unicode general category, supplementary planes included;
/// emoji sequences (ZWJ families, skin tones, flags, keycaps); Korean, CJK, Japanese, Arabic, Hebrew,
/// Devanagari, Thai; code; runs of spaces, tabs, newlines and digits; contractions in any case; added
/// tokens inside text; random code points. Reproducible from the seed.
/// </summary>
public static class TokenizerCorpus
{
    static readonly string[] Samples =
    [
        "Hello, world! How's it going? I'M FINE, you'RE kind.", "안녕하세요. 오늘 날씨가 좋네요! 한국어 토큰화 테스트입니다.",
        "深度学习模型在自然语言处理中的应用。𠀀𠀁𡈽 extension B.", "日本語のテキスト：ひらがな、カタカナ、漢字。", "مرحبا بالعالم، هذا اختبار للنص العربي.",
        "שלום עולם, זהו מבחן.", "नमस्ते दुनिया, यह एक परीक्षण है।", "สวัสดีครับ นี่คือการทดสอบ", "Ελληνικά και русский текст, Ünïcödé façade.",
        "def f(x):\n    return x ** 2  # square\n\nprint(f(12345))", "for (int i = 0; i < n; ++i) { sum += a[i]; }\t// C", "SELECT * FROM t WHERE id = 42;",
        "<think>\nLet me compute 37 + 485.\n</think>\n<answer>522</answer>", "1234567890 3.14159 1,000,000 $12.50 50% 2024-12-03",
        "👨‍👩‍👧‍👦 family, 👍🏽 thumbs, 🇯🇵🇺🇸 flags, 1️⃣ keycap, 🏳️‍🌈, 🧑🏿‍🚀", "𝐀𝐁𝐂 𝕏 𝔸 ℝ∑∫√∞ ≤≥≠", "tabs\t\tand  spaces   and\n\n\nnewlines\r\n",
        "   leading and trailing   ", "ﬁ ligature, Å Å (NFC vs NFD: e\u0301 é)", "zero\u200bwidth\u200djoiner\ufeffbom", "控制\u0001字符\u007f",
    ];

    static readonly (int From, int To)[] Ranges =
    [
        (0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F),
        (0x1100, 0x11FF), (0x2000, 0x206F), (0x2190, 0x23FF), (0x2500, 0x27BF), (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
        (0xFF00, 0xFFEF), (0x1D400, 0x1D7FF), (0x1F300, 0x1FAFF), (0x20000, 0x2A6DF), (0x10000, 0x1007F), (0xE0000, 0xE007F),
    ];

    public static List<string> Generate(int count, int seed, IReadOnlyList<string> addedTokens)
    {
        var random = new Random(seed);
        var byCategory = Enumerable.Range(0, 30).Select(_ => new List<int>()).ToArray();
        for (int cp = 0; cp <= 0x10FFFF; cp += cp < 0x30000 ? 1 : 97)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) continue;
            byCategory[(int)CharUnicodeInfo.GetUnicodeCategory(cp)].Add(cp);
        }
        var strings = new List<string>(Samples);
        // Every general category, BMP and beyond.
        foreach (var cps in byCategory.Where(c => c.Count > 0))
            for (int k = 0; k < 8; k++) strings.Add(Word(random, () => cps[random.Next(cps.Count)], 1 + random.Next(6)) + " x" + Word(random, () => cps[random.Next(cps.Count)], 1 + random.Next(3)));
        string[] pieces = ["don't", "DON'T", "we'll", "I'd", "it's", "they've", "  ", "\t", "\n", "\n\n", "\r\n", "    ", "123", "4567890", "3.5", "--", "...", "!!", "()", "{}", "=>",
            "the", "The", "café", "naïve", "über", "東京", "서울", "😀", "🤖", "🇩🇪", "👋🏻", "§", "©", "™", "→", "∀x", "x²", "½", "Ⅻ", "٣", "५", "_", "__init__", "\\n", "\"quoted\""];
        while (strings.Count < count)
        {
            var b = new StringBuilder();
            int parts = 1 + random.Next(8);
            for (int p = 0; p < parts; p++)
            {
                switch (random.Next(6))
                {
                    case 0: b.Append(pieces[random.Next(pieces.Length)]); break;
                    case 1:
                        var sample = Samples[random.Next(Samples.Length)];
                        int start = random.Next(sample.Length);
                        if (char.IsLowSurrogate(sample[start])) start--;
                        int end = Math.Min(sample.Length, start + 1 + random.Next(16));
                        if (end < sample.Length && char.IsLowSurrogate(sample[end])) end++;
                        b.Append(sample, start, end - start);
                        break;
                    case 2:
                        var (from, to) = Ranges[random.Next(Ranges.Length)];
                        b.Append(Word(random, () => random.Next(from, to + 1), 1 + random.Next(5)));
                        break;
                    case 3: b.Append(' ', random.Next(1, 4)); break;
                    case 4: if (addedTokens.Count > 0) b.Append(addedTokens[random.Next(addedTokens.Count)]); break;
                    default: b.Append(Word(random, () => random.Next(0x20, 0x10FFFF), 1 + random.Next(3))); break;
                }
            }
            strings.Add(b.ToString());
        }
        return strings;
    }

    /// <summary>count code points from pick, surrogates skipped.</summary>
    static string Word(Random random, Func<int> pick, int count)
    {
        var b = new StringBuilder();
        while (count > 0)
        {
            int cp = pick();
            if (cp is >= 0xD800 and <= 0xDFFF) continue;
            b.Append(char.ConvertFromUtf32(cp));
            count--;
        }
        return b.ToString();
    }
}
