using System.Text.Json.Nodes;
using RolloutCluster.Model.Jinja;

namespace RolloutCluster.Tests.Oracle;

/// <summary>
/// The template language's features, one small template each, rendered by our interpreter and by
/// @huggingface/jinja. Where @huggingface/jinja 0.5.13 departs from Python's Jinja, which transformers
/// renders chat templates with, we follow Python and the case is left out here: str.strip/lstrip/rstrip
/// with an argument (it ignores the characters and trims whitespace), capitalize (it keeps the rest's
/// case), the float test and "is divisibleby 3" without parentheses (unknown to it), str * int.
/// </summary>
public sealed class JinjaFeatureTests
{
    static readonly string[] Templates =
    [
        "{% for m in messages %}{{ loop.index }}/{{ loop.length }} {{ m.role }}{% if loop.first %} first{% endif %}{% if loop.last %} last{% endif %};{% endfor %}",
        "{% for m in messages %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{% endfor %}",
        "{% for m in messages if m.role == 'user' %}{{ m.content }}|{% else %}none{% endfor %}",
        "{% for x in [] %}x{% else %}empty{% endfor %}",
        "{% if n > 3 %}big{% elif n > 1 %}mid{% else %}small{% endif %}",
        "{% set x = 1 %}{% for i in range(3) %}{% set x = x + i %}{% endfor %}{{ x }}",
        "{% set ns = namespace(total=0) %}{% for i in range(4) %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}",
        "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', '?') }} {{ greet(name='Cy') }}",
        "{{ '  pad  ' | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello world' | title }}",
        "{{ messages | length }} {{ 'héllo' | length }} {{ {'a': 1} | length }}",
        "{{ ['a', 'b', 'c'] | join(', ') }}|{{ [1, 2] | join }}|{{ messages | map(attribute='role') | join(',') }}",
        "{{ missing | default('fallback') }}|{{ '' | default('empty', true) }}|{{ 0 | default(5) }}",
        "{{ tools | tojson }}", "{{ tools | tojson(indent=2) }}", "{{ {'k': [1, 2.5, true, none, 'ü\"\\n']} | tojson }}",
        "{{ x is defined }} {{ missing is defined }} {{ none_value is none }} {{ 'a' is string }} {{ 3 is number }} {{ 3 is integer }}",
        "{{ 4 is even }} {{ 3 is odd }} {{ false is false }} {{ true is true }} {{ [1] is iterable }} {{ {} is mapping }}",
        "{{ 'abc'.startswith('a') }} {{ 'abc'.endswith('bc') }} {{ '  x '.strip() }}|{{ '\\n\\nhi'.lstrip('\\n') }}|{{ 'hi\\n'.rstrip() }}",
        "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a-b-c'.split('-', 1) }} {{ 'aaa'.replace('a', 'b') }} {{ 'x</think>y'.split('</think>')[-1] }}",
        "{{ messages[0].content }} {{ messages[-1]['role'] }} {{ messages[::-1][0].role }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ [1,2,3,4][1:] }}",
        "{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ -3 + 1 }} {{ 1.5 + 1 }} {{ 'a' ~ 1 ~ true }}",
        "{{ 'ab' in 'cabd' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ not false and (true or false) }}",
        "{{ 'yes' if n > 2 else 'no' }} {{ 'only' if false }}!",
        "{% set s %}block {{ n }}{% endset %}{{ s | upper }}",
        "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}{% for k in {'x': 1} %}{{ k }}{% endfor %}",
        "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}",
        "{{ [3, 1, 2] | sort | list }} {{ [3, 1, 2] | reverse | list }} {{ [1, 1, 2] | unique | list }} {{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }}",
        "{{ messages | selectattr('role', 'equalto', 'user') | list | length }} {{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join }}",
        "{{ 'line1\\nline2' | indent(2) }}|{{ 3.7 | int }} {{ '42' | int }} {{ 2 | float }} {{ -4 | abs }} {{ 1 | string }}",
        "  {% if true %}\n    lstrip and trim\n  {% endif %}\nnext",
        "a  {{- ' b ' -}}  c {%- if true %} d {% endif -%}   e",
        "{# a comment #}kept{#- trimmed -#}   text",
        "{{ true }} {{ none_value }} {{ 1.0 }} {{ 2.50 }} {{ [1, 'a'] }} {{ {'a': none} }}",
        "{{ messages[0] }}", "{{ [1] + [2] }}",
        "{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] + '\\n\\n' }}{% endif %}{{ bos_token }}",
        "{{ 'Hello'.lower().replace('l', 'L') }} {{ 'a b c'.split(' ') | length }} {{ ('x' ~ 'y') | upper }}",
        "{{ strftime_now('%Y') | length }}",
        "{% set a, b = [1, 2] %}{{ a }}{{ b }} {% set t = (1, 2) %}{{ t | length }}",
        "{{ loop is defined }} {% for i in [1] %}{{ loop.previtem is defined }}{{ loop.nextitem is defined }}{% endfor %}",
    ];

    static JsonObject Variables() => new()
    {
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = "sys" },
            new JsonObject { ["role"] = "user", ["content"] = "hi 😀" },
            new JsonObject { ["role"] = "assistant", ["content"] = "<think>x</think>ok" },
            new JsonObject { ["role"] = "user", ["content"] = "bye" }),
        ["tools"] = new JsonArray(new JsonObject { ["name"] = "f", ["args"] = new JsonObject { ["x"] = 1, ["y"] = 2.5, ["z"] = new JsonArray("a", true) } }),
        ["n"] = 2, ["x"] = "set", ["none_value"] = null, ["bos_token"] = "<s>",
    };

    [Fact]
    public void Every_feature_renders_as_huggingface_jinja_renders_it()
    {
        var variables = Variables();
        var expected = NodeOracle.Render(Templates.Select(t => (t, variables)).ToList());
        var failures = new List<string>();
        for (int i = 0; i < Templates.Length; i++)
        {
            string ours;
            try
            {
                ours = new JinjaTemplate(Templates[i]).Render(variables.ToDictionary(kv => kv.Key, kv => JinjaValues.FromJson(kv.Value)));
            }
            catch (JinjaException e) { ours = "error: " + e.Message; }
            var theirs = expected[i].Text ?? "error: " + expected[i].Error;
            if (ours != theirs) failures.Add($"[{i}] {Templates[i]}\n  oracle: {theirs}\n  ours:   {ours}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}

/// <summary>Where we follow Python's Jinja (what transformers renders with) and @huggingface/jinja does not.</summary>
public sealed class JinjaPythonSemanticsTests
{
    static string Render(string template) => new JinjaTemplate(template).Render(new Dictionary<string, object?>());

    [Theory]
    [InlineData("{{ 'xxhixx'.strip('x') }}|{{ '\\n hi \\n'.strip('\\n') }}|{{ 'ab--'.rstrip('-') }}", "hi| hi |ab")]
    [InlineData("{{ 'hELLO wORLD' | capitalize }}", "Hello world")]
    [InlineData("{{ 2.0 is float }} {{ 6 is divisibleby 3 }} {{ 'ab' * 2 }}", "true true abab")]
    [InlineData("{{ '😀x' | length }} {{ '😀x'[0] }}", "2 😀")]
    public void Python_semantics_where_the_javascript_reference_departs(string template, string expected) =>
        Assert.Equal(expected, Render(template));
}
