using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RolloutCluster.Model.Jinja;

/// <summary>Jinja's undefined: a missing variable, key or attribute. Falsy; prints as nothing.</summary>
public sealed class Undefined
{
    public static readonly Undefined Instance = new();
    Undefined() { }
}

/// <summary>namespace(...): the one mutable object templates assign attributes to across loop scopes.</summary>
public sealed class JinjaNamespace(OrderedDictionary<string, object?> values)
{
    public OrderedDictionary<string, object?> Values => values;
}

/// <summary>A callable (a global function, a bound string method, a macro).</summary>
public sealed class JinjaCallable(string name, Func<List<object?>, Dictionary<string, object?>, object?> invoke)
{
    public string Name => name;
    public object? Invoke(List<object?> args, Dictionary<string, object?> kwargs) => invoke(args, kwargs);
}

/// <summary>
/// The value model, as @huggingface/jinja (the reference renderer of Hugging Face chat templates in
/// JavaScript) has it: null, undefined, booleans, 64-bit integers, doubles, strings, lists and
/// insertion-ordered objects. Printing and JSON follow it: true/false, floats with ".0".
/// </summary>
public static class JinjaValues
{
    /// <summary>A JSON value as a template value (integral numbers become integers, as the JavaScript reference reads them).</summary>
    public static object? FromJson(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => new OrderedDictionary<string, object?>(o.Select(kv => KeyValuePair.Create(kv.Key, FromJson(kv.Value)))),
        JsonArray a => a.Select(FromJson).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture) is var d && Math.Abs(d) < 9.007199254740992E15 && d == Math.Floor(d) ? (object)(long)d : d,
            _ => null,
        },
        _ => null,
    };

    public static bool Truthy(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0 && !double.IsNaN(d),
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        OrderedDictionary<string, object?> o => o.Count > 0,
        _ => true,
    };

    /// <summary>How a value prints in output (none and undefined print nothing, as in the JavaScript reference).</summary>
    public static string ToText(object? value) => value switch
    {
        null => "",
        Undefined => "",
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatText(d),
        List<object?> or OrderedDictionary<string, object?> or JinjaNamespace => ToJson(value, null, undefinedAsNull: false),
        JinjaCallable c => $"<function {c.Name}>",
        _ => value.ToString() ?? "",
    };

    static string FloatText(double d) =>
        d == 0 && double.IsNegative(d) ? "-0.0" : d == Math.Floor(d) && double.IsFinite(d) ? d.ToString("0.0", CultureInfo.InvariantCulture) : NumberText(d);

    /// <summary>A number as JavaScript writes it (shortest round-trip form).</summary>
    static string NumberText(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsInfinity(d)) return d > 0 ? "Infinity" : "-Infinity";
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        // .NET writes 1E+21 where JavaScript writes 1e+21.
        return r.Replace("E+", "e+").Replace("E-", "e-");
    }

    /// <summary>JSON as the reference's tojson writes it: ", " and ": " separators, or "," with an indent; non-ASCII kept.</summary>
    public static string ToJson(object? value, int? indent, bool undefinedAsNull = true, int depth = 0)
    {
        string itemSeparator = indent is > 0 ? "," : ", ";
        switch (value)
        {
            case null: return "null";
            case Undefined: return undefinedAsNull ? "null" : "undefined";
            case bool b: return b ? "true" : "false";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return double.IsFinite(d) ? NumberText(d) : "null";
            case string s: return JsonString(s);
            case List<object?> list:
            {
                var items = list.Select(x => ToJson(x, indent, undefinedAsNull, depth + 1)).ToList();
                if (indent is not > 0 || items.Count == 0) return "[" + string.Join(itemSeparator, items) + "]";
                var pad = "\n" + new string(' ', indent.Value * depth);
                var child = pad + new string(' ', indent.Value);
                return "[" + child + string.Join(itemSeparator + child, items) + pad + "]";
            }
            case OrderedDictionary<string, object?> or JinjaNamespace:
            {
                var map = value as OrderedDictionary<string, object?> ?? ((JinjaNamespace)value).Values;
                var pad = indent is > 0 ? "\n" + new string(' ', indent.Value * depth) : "";
                var child = indent is > 0 ? pad + new string(' ', indent.Value) : "";
                var items = map.Select(kv => child + JsonString(kv.Key) + ": " + ToJson(kv.Value, indent, undefinedAsNull, depth + 1)).ToList();
                return indent is > 0 && items.Count > 0 ? "{" + string.Join(itemSeparator, items) + pad + "}" : "{" + string.Join(itemSeparator, items) + "}";
            }
            default: throw new JinjaException($"cannot convert {TypeName(value)} to JSON");
        }
    }

    /// <summary>A string as JSON.stringify writes it: quotes, backslashes and control characters escaped, lone surrogates as \uXXXX.</summary>
    public static string JsonString(string s)
    {
        var b = new StringBuilder(s.Length + 2).Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': b.Append("\\\""); break;
                case '\\': b.Append("\\\\"); break;
                case '\b': b.Append("\\b"); break;
                case '\f': b.Append("\\f"); break;
                case '\n': b.Append("\\n"); break;
                case '\r': b.Append("\\r"); break;
                case '\t': b.Append("\\t"); break;
                default:
                    if (c < 0x20) b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) && !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(s[i - 1])))
                        b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else b.Append(c);
                    break;
            }
        }
        return b.Append('"').ToString();
    }

    public static string TypeName(object? value) => value switch
    {
        null => "none",
        Undefined => "undefined",
        bool => "boolean",
        long => "integer",
        double => "float",
        string => "string",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "object",
        JinjaNamespace => "namespace",
        JinjaCallable => "function",
        _ => value.GetType().Name,
    };

    public static bool Equal(object? a, object? b) => (a, b) switch
    {
        (long x, double y) => x == y,
        (double x, long y) => x == y,
        (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Equal(p.First, p.Second)),
        (OrderedDictionary<string, object?> x, OrderedDictionary<string, object?> y) => x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && Equal(kv.Value, v)),
        _ => Equals(a, b),
    };
}
