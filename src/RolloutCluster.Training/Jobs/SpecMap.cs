using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace RolloutCluster.Training.Jobs;

/// <summary>
/// Reads one mapping of a job file with typed accessors. Every error names the file, line, column,
/// the field's path and what was expected; <see cref="Done"/> rejects keys nobody asked for.
/// </summary>
public sealed class SpecMap
{
    readonly string _file;
    readonly YamlMappingNode _node;
    readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public SpecMap(string file, YamlNode node, string path)
    {
        _file = file;
        Path = path;
        _node = node as YamlMappingNode ?? throw Error(node, path, $"expected a mapping (key: value), found {Describe(node)}");
    }

    public string Path { get; }

    string Child(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    YamlNode? Get(string key)
    {
        _read.Add(key);
        return _node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;
    }

    public bool Has(string key) => _node.Children.ContainsKey(new YamlScalarNode(key));

    public string File => _file;

    /// <summary>An error at a node: file:line:column (or the --set override it came from), the field's path, the message.</summary>
    public JobSpecException Error(YamlNode node, string path, string message) =>
        new($"{Where(node)}: {path}: {message}");

    string Where(YamlNode node) => JobOverrides.Origin(node) ?? $"{_file}:{node.Start.Line}:{node.Start.Column}";

    /// <summary>An error about a key of this mapping, positioned at its value (or at the mapping when the key is absent).</summary>
    public JobSpecException ErrorAt(string key, string message) =>
        _node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? Error(value, Child(key), message) : Error(_node, Child(key), message);

    /// <summary>An error about the mapping itself.</summary>
    public JobSpecException ErrorHere(string message) => Error(_node, Path.Length == 0 ? "(job)" : Path, message);

    public JobSpecException Missing(string key) =>
        new($"{Where(_node)}: {Child(key)}: required field is missing");

    string? Scalar(string key, string expected, out YamlNode? node)
    {
        node = Get(key);
        if (node is null) return null;
        if (node is not YamlScalarNode scalar) throw Error(node, Child(key), $"expected {expected}, found {Describe(node)}");
        return scalar.Value is null or "~" or "null" && scalar.Style == YamlDotNet.Core.ScalarStyle.Plain ? null : scalar.Value;
    }

    public string? OptionalString(string key, params string[] allowed)
    {
        var text = Scalar(key, "a string", out var node);
        if (text is not null && allowed.Length > 0 && !allowed.Contains(text))
            throw Error(node!, Child(key), $"expected one of {string.Join(", ", allowed)}, found \"{text}\"");
        return text;
    }

    public string String(string key, string? fallback = null, params string[] allowed) =>
        OptionalString(key, allowed) ?? fallback ?? throw Missing(key);

    public long Long(string key, long? fallback = null, long min = long.MinValue, long max = long.MaxValue)
    {
        var text = Scalar(key, "an integer", out var node);
        if (text is null) return fallback ?? throw Missing(key);
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw Error(node!, Child(key), $"expected an integer, found \"{text}\"");
        if (value < min || value > max) throw Error(node!, Child(key), $"expected an integer {Range(min, max)}, found {value}");
        return value;
    }

    public int Int(string key, int? fallback = null, int min = int.MinValue, int max = int.MaxValue) =>
        (int)Long(key, fallback, min, max);

    public double? OptionalDouble(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity, bool exclusiveMin = false)
    {
        var text = Scalar(key, "a number", out var node);
        if (text is null) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            throw Error(node!, Child(key), $"expected a number, found \"{text}\"");
        if (value < min || value > max || (exclusiveMin && value <= min))
            throw Error(node!, Child(key), $"expected a number {Range(min, max, exclusiveMin)}, found {value.ToString(CultureInfo.InvariantCulture)}");
        return value;
    }

    public double Double(string key, double? fallback = null, double min = double.NegativeInfinity, double max = double.PositiveInfinity, bool exclusiveMin = false) =>
        OptionalDouble(key, min, max, exclusiveMin) ?? fallback ?? throw Missing(key);

    public bool Bool(string key, bool fallback)
    {
        var text = Scalar(key, "true or false", out var node);
        if (text is null) return fallback;
        return text switch
        {
            "true" or "True" => true,
            "false" or "False" => false,
            _ => throw Error(node!, Child(key), $"expected true or false, found \"{text}\""),
        };
    }

    public SpecMap? OptionalMap(string key)
    {
        var node = Get(key);
        return node is null || node is YamlScalarNode { Value: null or "null" or "~" } ? null : new SpecMap(_file, node, Child(key));
    }

    public SpecMap Map(string key) => OptionalMap(key) ?? throw Missing(key);

    /// <summary>The items of a sequence, each with its node and path ("stages[1]").</summary>
    public IReadOnlyList<(YamlNode Node, string Path)> List(string key, bool required = true)
    {
        var node = Get(key);
        if (node is null) return required ? throw Missing(key) : [];
        if (node is not YamlSequenceNode sequence) throw Error(node, Child(key), $"expected a list, found {Describe(node)}");
        return sequence.Children.Select((n, i) => (n, $"{Child(key)}[{i}]")).ToList();
    }

    /// <summary>A mapping of strings to strings (e.g. a dataset's field mapping), or null when absent.</summary>
    public IReadOnlyDictionary<string, string>? StringMap(string key)
    {
        var node = Get(key);
        if (node is null || node is YamlScalarNode { Value: null or "null" or "~" }) return null;
        if (node is not YamlMappingNode map) throw Error(node, Child(key), $"expected a mapping (name: column), found {Describe(node)}");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? throw Error(k, Child(key), "expected a string key");
            result[name] = v is YamlScalarNode { Value: { } text } ? text : throw Error(v, $"{Child(key)}.{name}", $"expected a string, found {Describe(v)}");
        }
        return result;
    }

    public IReadOnlyList<string> StringList(string key)
    {
        return List(key, required: false).Select(item => item.Node is YamlScalarNode { Value: { } v }
            ? v : throw Error(item.Node, item.Path, $"expected a string, found {Describe(item.Node)}")).ToList();
    }

    /// <summary>Fails on any key that was never read: a typo must not be silently ignored.</summary>
    public void Done()
    {
        foreach (var (key, value) in _node.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? "?";
            if (!_read.Contains(name))
                throw Error(key, Child(name), $"unknown field; known here: {string.Join(", ", _read.Order(StringComparer.Ordinal))}");
        }
    }

    static string Range(double min, double max, bool exclusiveMin = false) =>
        (min <= int.MinValue, max >= int.MaxValue) switch
        {
            (true, true) => "",
            (false, true) => exclusiveMin ? $"> {Num(min)}" : $">= {Num(min)}",
            (true, false) => $"<= {Num(max)}",
            _ => exclusiveMin ? $"in ({Num(min)}, {Num(max)}]" : $"in [{Num(min)}, {Num(max)}]",
        };

    static string Num(double x) => x.ToString(CultureInfo.InvariantCulture);

    static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"\"{s.Value}\"",
        _ => node.NodeType.ToString(),
    };
}
