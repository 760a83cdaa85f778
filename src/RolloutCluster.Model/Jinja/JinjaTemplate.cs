using System.Text;

namespace RolloutCluster.Model.Jinja;

/// <summary>
/// A Jinja template as Hugging Face chat templates use the language, rendered as @huggingface/jinja
/// renders it (the tests compare the two on real templates). Parse once, render many times;
/// errors name the template line.
/// </summary>
public sealed class JinjaTemplate
{
    readonly List<Node> _body;

    public JinjaTemplate(string source)
    {
        _body = new JinjaParser(JinjaLexer.Tokenize(source)).ParseTemplate();
    }

    /// <summary>Renders with the given variables (values as <see cref="JinjaValues.FromJson"/> makes them, or CLR strings, numbers, bools, lists).</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables, TimeProvider? time = null)
    {
        var scope = new Scope(null);
        JinjaBuiltins.AddGlobals(scope, time ?? TimeProvider.System);
        foreach (var (name, value) in variables) scope.Set(name, Normalize(value));
        var output = new StringBuilder();
        new Interpreter().Run(_body, scope, output);
        return output.ToString();
    }

    /// <summary>CLR values to the template's value model (ints to long, arrays to lists, dictionaries to ordered ones).</summary>
    static object? Normalize(object? value) => value switch
    {
        int i => (long)i,
        float f => (double)f,
        OrderedDictionary<string, object?> o => o,
        IDictionary<string, object?> d => new OrderedDictionary<string, object?>(d.Select(kv => KeyValuePair.Create(kv.Key, Normalize(kv.Value)))),
        List<object?> l => l,
        System.Collections.IEnumerable e and not string => e.Cast<object?>().Select(Normalize).ToList(),
        System.Text.Json.Nodes.JsonNode n => JinjaValues.FromJson(n),
        _ => value,
    };
}

/// <summary>Variables: a chain of scopes (a for loop's body and a macro call get their own).</summary>
sealed class Scope(Scope? parent)
{
    readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);

    public Scope? Parent => parent;

    public object? Get(string name) =>
        _values.TryGetValue(name, out var v) ? v : parent is not null ? parent.Get(name) : Undefined.Instance;

    public void Set(string name, object? value) => _values[name] = value;
}
