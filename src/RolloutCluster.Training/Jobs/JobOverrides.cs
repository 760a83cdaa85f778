using System.Runtime.CompilerServices;
using YamlDotNet.RepresentationModel;

namespace RolloutCluster.Training.Jobs;

/// <summary>
/// `--set path=value` overrides applied to a job file's YAML before it is read: "stages.grpo.steps=3"
/// addresses a stage by name ("stages[1].steps" by index), "task.epochs=2" adds a field the file
/// lacks. The value is read as YAML, so its type is checked like the file's own; errors about it name
/// the override instead of a line.
/// </summary>
public static class JobOverrides
{
    static readonly ConditionalWeakTable<YamlNode, string> Origins = new();

    /// <summary>The override a node came from ("--set a.b=3"), or null for the file's own nodes.</summary>
    public static string? Origin(YamlNode node) => Origins.TryGetValue(node, out var origin) ? origin : null;

    public static void Apply(YamlNode root, IEnumerable<string> overrides)
    {
        foreach (var text in overrides)
        {
            int eq = text.IndexOf('=');
            if (eq <= 0) throw new JobSpecException($"--set {text}: expected path=value, e.g. stages.grpo.steps=3");
            var path = text[..eq].Trim();
            var value = Parse(text, text[(eq + 1)..]);
            Origins.AddOrUpdate(value, $"--set {text}");
            Set(root, path, value, text);
        }
    }

    static YamlNode Parse(string text, string value)
    {
        if (value.Length == 0) return new YamlScalarNode("");
        var stream = new YamlStream();
        try { stream.Load(new StringReader(value)); }
        catch (YamlDotNet.Core.YamlException e) { throw new JobSpecException($"--set {text}: the value is not valid YAML: {e.InnerException?.Message ?? e.Message}"); }
        return stream.Documents.Count == 1 ? stream.Documents[0].RootNode : new YamlScalarNode(value);
    }

    static void Set(YamlNode root, string path, YamlNode value, string text)
    {
        var segments = Segments(path, text);
        YamlNode node = root;
        string walked = "";
        for (int i = 0; i < segments.Count; i++)
        {
            var (key, index) = segments[i];
            bool last = i == segments.Count - 1;
            walked = walked.Length == 0 ? key : $"{walked}.{key}";
            if (node is not YamlMappingNode map) throw new JobSpecException($"--set {text}: '{walked}' is not inside a mapping");
            var keyNode = new YamlScalarNode(key);
            // A key the override adds is reported as the override's, like its value.
            if (!map.Children.ContainsKey(keyNode)) Origins.AddOrUpdate(keyNode, $"--set {text}");
            if (index is null && last)
            {
                map.Children[keyNode] = value;
                return;
            }
            if (!map.Children.TryGetValue(keyNode, out var child))
            {
                if (index is not null) throw new JobSpecException($"--set {text}: unknown path '{walked}': the job has no '{key}'");
                child = new YamlMappingNode();
                Origins.AddOrUpdate(child, $"--set {text}");
                map.Children[keyNode] = child;
            }
            if (index is null && child is YamlSequenceNode stages && key == "stages" && i + 1 < segments.Count)
            {
                // stages.<name>: the stage with that name.
                var name = segments[++i].Key;
                walked += $".{name}";
                child = stages.Children.FirstOrDefault(s => s is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode("name"), out var n) && (n as YamlScalarNode)?.Value == name)
                    ?? throw new JobSpecException($"--set {text}: unknown path '{walked}': no stage named '{name}'; stages: {string.Join(", ", stages.Children.Select(s => ((s as YamlMappingNode)?.Children.TryGetValue(new YamlScalarNode("name"), out var n) == true ? (n as YamlScalarNode)?.Value : "?")))}");
                if (i == segments.Count - 1) throw new JobSpecException($"--set {text}: '{walked}' is a whole stage; set one of its fields, e.g. {walked}.steps=3");
            }
            else if (index is { } at)
            {
                if (child is not YamlSequenceNode list || at >= list.Children.Count)
                    throw new JobSpecException($"--set {text}: unknown path '{walked}[{at}]'{(child is YamlSequenceNode l ? $": '{key}' has {l.Children.Count} item(s)" : $": '{key}' is not a list")}");
                walked += $"[{at}]";
                if (last)
                {
                    list.Children[at] = value;
                    return;
                }
                child = list.Children[at];
            }
            node = child;
        }
    }

    static List<(string Key, int? Index)> Segments(string path, string text)
    {
        var segments = new List<(string, int?)>();
        foreach (var part in path.Split('.'))
        {
            var m = System.Text.RegularExpressions.Regex.Match(part, @"^([A-Za-z0-9_\-]+)(?:\[(\d+)\])?$");
            if (!m.Success) throw new JobSpecException($"--set {text}: '{part}' is not a field name (letters, digits, '_', '-', optionally [index])");
            segments.Add((m.Groups[1].Value, m.Groups[2].Success ? int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : null));
        }
        return segments;
    }
}
