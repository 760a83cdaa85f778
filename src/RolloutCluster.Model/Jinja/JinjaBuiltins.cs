using System.Globalization;
using System.Text;

namespace RolloutCluster.Model.Jinja;

/// <summary>Operators, member access, filters, tests, string and object methods, and globals of the template language.</summary>
static class JinjaBuiltins
{
    public static void AddGlobals(Scope scope, TimeProvider time)
    {
        scope.Set("namespace", new JinjaCallable("namespace", (args, kwargs) =>
        {
            var values = new OrderedDictionary<string, object?>();
            if (args.Count > 0 && args[0] is OrderedDictionary<string, object?> initial) foreach (var (k, v) in initial) values[k] = v;
            foreach (var (k, v) in kwargs) values[k] = v;
            return new JinjaNamespace(values);
        }));
        scope.Set("raise_exception", new JinjaCallable("raise_exception", (args, _) =>
            throw new JinjaError($"raise_exception: {(args.Count > 0 ? JinjaValues.ToText(args[0]) : "")}")));
        scope.Set("range", new JinjaCallable("range", (args, _) =>
        {
            long start = 0, stop, step = 1;
            if (args.Count == 1) stop = Int(args[0]);
            else { start = Int(args[0]); stop = Int(args[1]); if (args.Count > 2) step = Int(args[2]); }
            if (step == 0) throw new JinjaError("range() step must not be zero");
            var list = new List<object?>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) list.Add(i);
            return list;
        }));
        scope.Set("strftime_now", new JinjaCallable("strftime_now", (args, _) => Strftime(time.GetLocalNow(), args.Count > 0 ? Str(args[0]) : "%Y-%m-%d")));
        scope.Set("dict", new JinjaCallable("dict", (_, kwargs) => new OrderedDictionary<string, object?>(kwargs)));
    }

    static long Int(object? v) => v switch { long l => l, double d => (long)d, bool b => b ? 1 : 0, _ => throw new JinjaError($"expected an integer, found {JinjaValues.TypeName(v)}") };
    static string Str(object? v) => v as string ?? throw new JinjaError($"expected a string, found {JinjaValues.TypeName(v)}");

    static string Strftime(DateTimeOffset now, string format)
    {
        var b = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { b.Append(format[i]); continue; }
            char c = format[++i];
            b.Append(c switch
            {
                'Y' => now.Year.ToString(CultureInfo.InvariantCulture),
                'm' => now.Month.ToString("00", CultureInfo.InvariantCulture),
                'd' => now.Day.ToString("00", CultureInfo.InvariantCulture),
                'H' => now.Hour.ToString("00", CultureInfo.InvariantCulture),
                'M' => now.Minute.ToString("00", CultureInfo.InvariantCulture),
                'S' => now.Second.ToString("00", CultureInfo.InvariantCulture),
                'B' => now.ToString("MMMM", CultureInfo.InvariantCulture),
                'b' => now.ToString("MMM", CultureInfo.InvariantCulture),
                'A' => now.ToString("dddd", CultureInfo.InvariantCulture),
                'a' => now.ToString("ddd", CultureInfo.InvariantCulture),
                'y' => (now.Year % 100).ToString("00", CultureInfo.InvariantCulture),
                'p' => now.Hour < 12 ? "AM" : "PM",
                'I' => ((now.Hour + 11) % 12 + 1).ToString("00", CultureInfo.InvariantCulture),
                'j' => now.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => "%" + c,
            });
        }
        return b.ToString();
    }

    public static object? Member(object? target, string name)
    {
        switch (target)
        {
            case OrderedDictionary<string, object?> map:
                if (map.TryGetValue(name, out var v)) return v;
                return ObjectMethod(map, name) ?? Undefined.Instance;
            case JinjaNamespace ns: return ns.Values.TryGetValue(name, out var nv) ? nv : Undefined.Instance;
            case string s: return StringMethod(s, name) ?? Undefined.Instance;
            case List<object?> list: return ListMethod(list, name) ?? Undefined.Instance;
            case Undefined: throw new JinjaError($"cannot read '{name}' of an undefined value");
            case null: throw new JinjaError($"cannot read '{name}' of none");
            default: return Undefined.Instance;
        }
    }

    public static object? Index(object? target, object? index)
    {
        switch (target)
        {
            case List<object?> list when index is long i:
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : Undefined.Instance;
            case string s when index is long i:
                var points = CodePoints(s);
                if (i < 0) i += points.Count;
                return i >= 0 && i < points.Count ? points[(int)i] : Undefined.Instance;
            case OrderedDictionary<string, object?> or JinjaNamespace when index is string key:
                return Member(target, key);
            case OrderedDictionary<string, object?> map:
                return map.TryGetValue(JinjaValues.ToText(index), out var v) ? v : Undefined.Instance;
            case Undefined: throw new JinjaError($"cannot index an undefined value");
            case null: throw new JinjaError($"cannot index none");
            default: throw new JinjaError($"cannot index {JinjaValues.TypeName(target)} with {JinjaValues.TypeName(index)}");
        }
    }

    static List<string> CodePoints(string s)
    {
        var list = new List<string>();
        for (int i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1) list.Add(s.Substring(i, char.IsSurrogatePair(s, i) ? 2 : 1));
        return list;
    }

    /// <summary>Python slicing [start:stop:step] of a list or a string.</summary>
    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        List<object?> items = target switch
        {
            List<object?> l => l,
            string s => CodePoints(s).Cast<object?>().ToList(),
            _ => throw new JinjaError($"cannot slice {JinjaValues.TypeName(target)}"),
        };
        long n = items.Count, st = step is null or Undefined ? 1 : Int(step);
        if (st == 0) throw new JinjaError("slice step cannot be zero");
        long Clamp(object? v, long fallback, long lo, long hi)
        {
            if (v is null or Undefined) return fallback;
            long x = Int(v);
            if (x < 0) x += n;
            return Math.Clamp(x, lo, hi);
        }
        var result = new List<object?>();
        if (st > 0) { for (long i = Clamp(start, 0, 0, n), end = Clamp(stop, n, 0, n); i < end; i += st) result.Add(items[(int)i]); }
        else { for (long i = Clamp(start, n - 1, -1, n - 1), end = Clamp(stop, -1, -1, n - 1); i > end; i += st) result.Add(items[(int)i]); }
        return target is string ? string.Concat(result.Cast<string>()) : result;
    }

    public static object? Binary(string op, object? a, object? b)
    {
        switch (op)
        {
            case "==": return JinjaValues.Equal(a, b);
            case "!=": return !JinjaValues.Equal(a, b);
            case "in": return Contains(b, a);
            case "not in": return !Contains(b, a);
            case "~": return JinjaValues.ToText(a) + JinjaValues.ToText(b);
        }
        if (a is long x && b is long y)
        {
            return op switch
            {
                "+" => x + y, "-" => x - y, "*" => x * y,
                "/" => (double)x / y,
                "//" => y == 0 ? throw new JinjaError("division by zero") : (long)Math.Floor((double)x / y),
                "%" => y == 0 ? throw new JinjaError("modulo by zero") : ((x % y) + y) % y,
                "**" => y >= 0 ? (object)(long)Math.Pow(x, y) : Math.Pow(x, y),
                "<" => x < y, ">" => x > y, "<=" => x <= y, ">=" => x >= y,
                _ => throw new JinjaError($"unknown operator '{op}'"),
            };
        }
        if (a is long or double && b is long or double)
        {
            double p = Convert.ToDouble(a, CultureInfo.InvariantCulture), q = Convert.ToDouble(b, CultureInfo.InvariantCulture);
            return op switch
            {
                "+" => p + q, "-" => p - q, "*" => p * q, "/" => p / q, "//" => Math.Floor(p / q), "%" => p - q * Math.Floor(p / q), "**" => Math.Pow(p, q),
                "<" => p < q, ">" => p > q, "<=" => p <= q, ">=" => p >= q,
                _ => throw new JinjaError($"unknown operator '{op}'"),
            };
        }
        if (a is Undefined || b is Undefined) throw new JinjaError($"cannot apply '{op}' to an undefined value");
        if (a is null || b is null) throw new JinjaError($"cannot apply '{op}' to none");
        if (op == "+" && a is List<object?> la && b is List<object?> lb) return la.Concat(lb).ToList();
        if (op == "+" && (a is string || b is string)) return JinjaValues.ToText(a) + JinjaValues.ToText(b);
        if (op == "*" && a is string s && b is long times) return string.Concat(Enumerable.Repeat(s, (int)Math.Max(0, times)));
        if (op == "*" && a is List<object?> repeated && b is long copies) return Enumerable.Repeat(repeated, (int)Math.Max(0, copies)).SelectMany(x => x).ToList();
        if (a is string sa && b is string sb && op is "<" or ">" or "<=" or ">=")
        {
            int c = string.CompareOrdinal(sa, sb);
            return op switch { "<" => c < 0, ">" => c > 0, "<=" => c <= 0, _ => c >= 0 };
        }
        throw new JinjaError($"cannot apply '{op}' to {JinjaValues.TypeName(a)} and {JinjaValues.TypeName(b)}");
    }

    static bool Contains(object? container, object? item) => container switch
    {
        string s when item is string i => s.Contains(i, StringComparison.Ordinal),
        List<object?> l => l.Any(x => JinjaValues.Equal(x, item)),
        OrderedDictionary<string, object?> m => item is string k && m.ContainsKey(k),
        Undefined => false,
        _ => throw new JinjaError($"cannot test membership in {JinjaValues.TypeName(container)}"),
    };

    static JinjaCallable Method(string name, Func<List<object?>, object?> body) => new(name, (args, _) => body(args));

    static object? StringMethod(string s, string name) => name switch
    {
        "startswith" => Method(name, a => a[0] is List<object?> options ? options.Any(o => s.StartsWith(Str(o), StringComparison.Ordinal)) : s.StartsWith(Str(a[0]), StringComparison.Ordinal)),
        "endswith" => Method(name, a => a[0] is List<object?> options ? options.Any(o => s.EndsWith(Str(o), StringComparison.Ordinal)) : s.EndsWith(Str(a[0]), StringComparison.Ordinal)),
        "strip" => Method(name, a => a.Count > 0 && a[0] is string chars ? s.Trim(chars.ToCharArray()) : s.Trim()),
        "lstrip" => Method(name, a => a.Count > 0 && a[0] is string chars ? s.TrimStart(chars.ToCharArray()) : s.TrimStart()),
        "rstrip" => Method(name, a => a.Count > 0 && a[0] is string chars ? s.TrimEnd(chars.ToCharArray()) : s.TrimEnd()),
        "split" => Method(name, a => Split(s, a.Count > 0 && a[0] is string sep ? sep : null, a.Count > 1 ? Int(a[1]) : -1)),
        "replace" => Method(name, a => a.Count > 2 ? ReplaceCount(s, Str(a[0]), Str(a[1]), Int(a[2])) : s.Replace(Str(a[0]), Str(a[1]), StringComparison.Ordinal)),
        "upper" => Method(name, _ => s.ToUpperInvariant()),
        "lower" => Method(name, _ => s.ToLowerInvariant()),
        "title" => Method(name, _ => Title(s)),
        "capitalize" => Method(name, _ => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant()),
        "find" => Method(name, a => (long)s.IndexOf(Str(a[0]), StringComparison.Ordinal)),
        "count" => Method(name, a => (long)(Str(a[0]).Length == 0 ? s.Length + 1 : (s.Length - s.Replace(Str(a[0]), "", StringComparison.Ordinal).Length) / Str(a[0]).Length)),
        "join" => Method(name, a => string.Join(s, ((List<object?>)a[0]!).Select(JinjaValues.ToText))),
        "isdigit" => Method(name, _ => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => Method(name, _ => s.Length > 0 && s.All(char.IsLetter)),
        "isspace" => Method(name, _ => s.Length > 0 && s.All(char.IsWhiteSpace)),
        _ => null,
    };

    static string ReplaceCount(string s, string old, string replacement, long count)
    {
        if (count < 0) return s.Replace(old, replacement, StringComparison.Ordinal);
        var b = new StringBuilder();
        int at = 0;
        for (long n = 0; n < count; n++)
        {
            int i = s.IndexOf(old, at, StringComparison.Ordinal);
            if (i < 0 || old.Length == 0) break;
            b.Append(s, at, i - at).Append(replacement);
            at = i + old.Length;
        }
        return b.Append(s, at, s.Length - at).ToString();
    }

    /// <summary>Python's str.split: by a separator (maxsplit pieces at most), or on runs of whitespace.</summary>
    static List<object?> Split(string s, string? separator, long maxSplit)
    {
        if (separator is not null)
        {
            if (separator.Length == 0) throw new JinjaError("empty separator");
            return (maxSplit < 0 ? s.Split(separator) : s.Split(separator, (int)maxSplit + 1)).Cast<object?>().ToList();
        }
        var parts = new List<object?>();
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
            if (i >= s.Length) break;
            if (maxSplit >= 0 && parts.Count == maxSplit) { parts.Add(s[i..].TrimEnd()); break; }
            int start = i;
            while (i < s.Length && !char.IsWhiteSpace(s[i])) i++;
            parts.Add(s[start..i]);
        }
        return parts;
    }

    static string Title(string s)
    {
        var b = new StringBuilder(s.Length);
        bool start = true;
        foreach (var c in s)
        {
            b.Append(start ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            start = !char.IsLetterOrDigit(c);
        }
        return b.ToString();
    }

    static object? ObjectMethod(OrderedDictionary<string, object?> map, string name) => name switch
    {
        "items" => Method(name, _ => map.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()),
        "keys" => Method(name, _ => map.Keys.Cast<object?>().ToList()),
        "values" => Method(name, _ => map.Values.ToList()),
        "get" => Method(name, a => map.TryGetValue(Str(a[0]), out var v) ? v : a.Count > 1 ? a[1] : null),
        _ => null,
    };

    static object? ListMethod(List<object?> list, string name) => name switch
    {
        "append" => Method(name, a => { list.Add(a[0]); return null; }),
        "length" => (long)list.Count,
        _ => null,
    };

    public static bool Test(string name, object? v, List<object?> args) => name switch
    {
        "defined" => v is not Undefined,
        "undefined" => v is Undefined,
        "none" => v is null,
        "string" => v is string,
        "number" => v is long or double,
        "integer" => v is long,
        "float" => v is double,
        "boolean" => v is bool,
        "true" => v is true,
        "false" => v is false,
        "mapping" => v is OrderedDictionary<string, object?>,
        "iterable" => v is List<object?> or string or OrderedDictionary<string, object?>,
        "sequence" => v is List<object?> or string,
        "callable" => v is JinjaCallable,
        "odd" => Int(v) % 2 != 0,
        "even" => Int(v) % 2 == 0,
        "divisibleby" => Int(v) % Int(args[0]) == 0,
        "eq" or "equalto" or "sameas" or "==" => JinjaValues.Equal(v, args[0]),
        "ne" or "!=" => !JinjaValues.Equal(v, args[0]),
        "lt" => (bool)Binary("<", v, args[0])!,
        "gt" => (bool)Binary(">", v, args[0])!,
        "le" => (bool)Binary("<=", v, args[0])!,
        "ge" => (bool)Binary(">=", v, args[0])!,
        "in" => Contains(args[0], v),
        "lower" => v is string s && s == s.ToLowerInvariant(),
        "upper" => v is string s && s == s.ToUpperInvariant(),
        _ => throw new JinjaError($"unknown test '{name}'"),
    };

    public static object? Filter(string name, object? v, List<object?> args, Dictionary<string, object?> kwargs, Interpreter interpreter, Scope scope)
    {
        object? Arg(int i, string key, object? fallback = null) => i < args.Count ? args[i] : kwargs.TryGetValue(key, out var k) ? k : fallback;
        switch (name)
        {
            case "length" or "count":
                return v switch
                {
                    string s => (long)CodePoints(s).Count,
                    List<object?> l => (long)l.Count,
                    OrderedDictionary<string, object?> m => (long)m.Count,
                    _ => throw new JinjaError($"cannot take the length of {JinjaValues.TypeName(v)}"),
                };
            case "tojson":
                var indent = Arg(0, "indent");
                return JinjaValues.ToJson(v, indent is long n ? (int)n : null);
            case "trim": return v is string t ? (Arg(0, "chars") is string chars ? t.Trim(chars.ToCharArray()) : t.Trim()) : throw new JinjaError($"cannot trim {JinjaValues.TypeName(v)}");
            case "upper": return Str(v).ToUpperInvariant();
            case "lower": return Str(v).ToLowerInvariant();
            case "title": return Title(Str(v));
            case "capitalize": return Str(v) is { Length: > 0 } c ? char.ToUpperInvariant(c[0]) + c[1..].ToLowerInvariant() : "";
            case "string": return JinjaValues.ToText(v);
            case "int": return v switch { long l => (object)l, double d => (long)Math.Truncate(d), string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) => x, bool b => b ? 1L : 0L, _ => Arg(0, "default", 0L) };
            case "float": return v switch { long l => (object)(double)l, double d => d, string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var x) => x, _ => Arg(0, "default", 0.0) };
            case "abs": return v switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), _ => throw new JinjaError($"cannot take abs of {JinjaValues.TypeName(v)}") };
            case "round":
                var digits = (int)Int(Arg(0, "precision", 0L)!);
                return Math.Round(Convert.ToDouble(v, CultureInfo.InvariantCulture), digits, MidpointRounding.ToEven);
            case "default" or "d":
                var fallback = Arg(0, "default_value", "");
                bool boolean = JinjaValues.Truthy(Arg(1, "boolean", false));
                return v is Undefined || (boolean && !JinjaValues.Truthy(v)) ? fallback : v;
            case "join":
                var separator = Arg(0, "d", "") as string ?? "";
                var attribute = Arg(1, "attribute") as string;
                return string.Join(separator, Items(v).Select(x => JinjaValues.ToText(attribute is null ? x : Member(x, attribute))));
            case "first": return Items(v) is { Count: > 0 } f ? f[0] : Undefined.Instance;
            case "last": return Items(v) is { Count: > 0 } l2 ? l2[^1] : Undefined.Instance;
            case "list": return Items(v);
            case "reverse": return v is string rs ? string.Concat(CodePoints(rs).AsEnumerable().Reverse()) : Items(v).AsEnumerable().Reverse().ToList();
            case "unique": return Items(v).Aggregate(new List<object?>(), (acc, x) => { if (!acc.Any(y => JinjaValues.Equal(x, y))) acc.Add(x); return acc; });
            case "items": return v is OrderedDictionary<string, object?> map ? map.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList() : throw new JinjaError($"cannot list items of {JinjaValues.TypeName(v)}");
            case "dictsort": return v is OrderedDictionary<string, object?> ds ? ds.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList() : throw new JinjaError("dictsort needs an object");
            case "replace": return Str(v).Replace(Str(Arg(0, "old")), Str(Arg(1, "new")), StringComparison.Ordinal);
            case "indent":
                var width = Arg(0, "width", 4L) is long w ? new string(' ', (int)w) : Str(Arg(0, "width"));
                bool first = JinjaValues.Truthy(Arg(1, "first", false)), blank = JinjaValues.Truthy(Arg(2, "blank", false));
                var lines = Str(v).Split('\n');
                return string.Join("\n", lines.Select((line, i) => (i == 0 && !first) || (line.Length == 0 && !blank) ? line : width + line));
            case "map":
                if (kwargs.TryGetValue("attribute", out var attr)) return Items(v).Select(x => Member(x, Str(attr)) is Undefined && kwargs.TryGetValue("default", out var dv) ? dv : Member(x, Str(attr))).ToList();
                var filter = Str(Arg(0, "filter"));
                return Items(v).Select(x => Filter(filter, x, args.Skip(1).ToList(), [], interpreter, scope)).ToList();
            case "select" or "reject":
                return Items(v).Where(x => (args.Count == 0 ? JinjaValues.Truthy(x) : Test(Str(args[0]), x, args.Skip(1).ToList())) == (name == "select")).ToList();
            case "selectattr" or "rejectattr":
                var key = Str(args[0]);
                return Items(v).Where(x => (args.Count < 2 ? JinjaValues.Truthy(Member(x, key)) : Test(Str(args[1]), Member(x, key), args.Skip(2).ToList())) == (name == "selectattr")).ToList();
            case "sort":
                bool reverse = JinjaValues.Truthy(Arg(0, "reverse", false));
                var by = Arg(2, "attribute") as string;
                var sorted = Items(v).OrderBy(x => by is null ? x : Member(x, by), Comparer<object?>.Create(Compare)).ToList();
                if (reverse) sorted.Reverse();
                return sorted;
            case "safe" or "escape" or "e" or "forceescape": return name == "safe" ? v : System.Net.WebUtility.HtmlEncode(JinjaValues.ToText(v));
            case "wordcount": return (long)Split(Str(v), null, -1).Count;
            case "batch":
                var size = (int)Int(args[0]);
                return Items(v).Chunk(size).Select(c => (object?)c.ToList()).ToList();
            default: throw new JinjaError($"unknown filter '{name}'");
        }
    }

    static int Compare(object? a, object? b) => (a, b) switch
    {
        (string x, string y) => string.CompareOrdinal(x, y),
        (long or double, long or double) => Convert.ToDouble(a, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(b, CultureInfo.InvariantCulture)),
        (bool x, bool y) => x.CompareTo(y),
        _ => throw new JinjaError($"cannot compare {JinjaValues.TypeName(a)} and {JinjaValues.TypeName(b)}"),
    };

    static List<object?> Items(object? v) => v switch
    {
        List<object?> l => l,
        string s => CodePoints(s).Cast<object?>().ToList(),
        OrderedDictionary<string, object?> m => m.Keys.Cast<object?>().ToList(),
        _ => throw new JinjaError($"expected a list, found {JinjaValues.TypeName(v)}"),
    };
}
