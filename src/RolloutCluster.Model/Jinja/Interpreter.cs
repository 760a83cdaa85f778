using System.Text;

namespace RolloutCluster.Model.Jinja;

/// <summary>Walks the statements, writing output; every error is reported with the template line.</summary>
sealed class Interpreter
{
    sealed class BreakSignal : Exception;
    sealed class ContinueSignal : Exception;

    public void Run(List<Node> body, Scope scope, StringBuilder output)
    {
        foreach (var node in body) Execute(node, scope, output);
    }

    void Execute(Node node, Scope scope, StringBuilder output)
    {
        try
        {
            switch (node)
            {
                case TextNode t: output.Append(t.Text); break;
                case OutputNode o: output.Append(JinjaValues.ToText(Eval(o.Value, scope))); break;
                case IfNode i: Run(JinjaValues.Truthy(Eval(i.Test, scope)) ? i.Body : i.Else, scope, output); break;
                case ForNode f: RunFor(f, scope, output); break;
                case SetNode s: RunSet(s, scope); break;
                case MacroNode m: scope.Set(m.Name, MakeMacro(m, scope)); break;
                case FilterBlockNode fb:
                    var inner = new StringBuilder();
                    Run(fb.Body, scope, inner);
                    output.Append(JinjaValues.ToText(JinjaBuiltins.Filter(fb.Filter, inner.ToString(), fb.Args.Select(a => Eval(a, scope)).ToList(), [], this, scope)));
                    break;
                case BreakNode: throw new BreakSignal();
                case ContinueNode: throw new ContinueSignal();
            }
        }
        catch (Exception e) when (e is not (BreakSignal or ContinueSignal or JinjaException))
        {
            throw new JinjaException($"template line {node.Line}: {e.Message}");
        }
    }

    void RunFor(ForNode f, Scope outer, StringBuilder output)
    {
        var scope = new Scope(outer);
        var iterable = Eval(f.Iterable, scope);
        var candidates = iterable switch
        {
            List<object?> list => list.ToList(),
            OrderedDictionary<string, object?> map => map.Keys.Cast<object?>().ToList(),
            string s => ToCodePoints(s),
            _ => throw new JinjaError($"expected a list or an object to loop over, found {JinjaValues.TypeName(iterable)}"),
        };
        var items = new List<object?>();
        foreach (var c in candidates)
        {
            if (f.Filter is not null)
            {
                var test = new Scope(scope);
                Bind(f.Targets, c, test);
                if (!JinjaValues.Truthy(Eval(f.Filter, test))) continue;
            }
            items.Add(c);
        }
        bool none = true;
        for (int i = 0; i < items.Count; i++)
        {
            scope.Set("loop", Loop(i, items));
            Bind(f.Targets, items[i], scope);
            try { Run(f.Body, scope, output); }
            catch (ContinueSignal) { continue; }
            catch (BreakSignal) { break; }
            none = false;
        }
        if (none) Run(f.Else, scope, output);
    }

    static List<object?> ToCodePoints(string s)
    {
        var list = new List<object?>();
        for (int i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1) list.Add(s.Substring(i, char.IsSurrogatePair(s, i) ? 2 : 1));
        return list;
    }

    static OrderedDictionary<string, object?> Loop(int i, List<object?> items) => new()
    {
        ["index"] = (long)(i + 1), ["index0"] = (long)i, ["revindex"] = (long)(items.Count - i), ["revindex0"] = (long)(items.Count - i - 1),
        ["first"] = i == 0, ["last"] = i == items.Count - 1, ["length"] = (long)items.Count,
        ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance, ["nextitem"] = i < items.Count - 1 ? items[i + 1] : Undefined.Instance,
        ["cycle"] = new JinjaCallable("cycle", (args, _) => args.Count == 0 ? Undefined.Instance : args[i % args.Count]),
    };

    static void Bind(List<string> targets, object? value, Scope scope)
    {
        if (targets.Count == 1) { scope.Set(targets[0], value); return; }
        if (value is not List<object?> parts) throw new JinjaError($"cannot unpack {JinjaValues.TypeName(value)} into {targets.Count} names");
        if (parts.Count != targets.Count) throw new JinjaError($"too {(parts.Count < targets.Count ? "few" : "many")} items to unpack");
        for (int i = 0; i < targets.Count; i++) scope.Set(targets[i], parts[i]);
    }

    void RunSet(SetNode s, Scope scope)
    {
        object? value;
        if (s.Value is not null) value = Eval(s.Value, scope);
        else
        {
            var inner = new StringBuilder();
            Run(s.Body!, scope, inner);
            value = inner.ToString();
        }
        switch (s.Target)
        {
            case NameExpr n: scope.Set(n.Name, value); break;
            case AttrExpr { Target: NameExpr owner } a:
                var target = scope.Get(owner.Name);
                if (target is JinjaNamespace ns) ns.Values[a.Name] = value;
                else if (target is OrderedDictionary<string, object?> map) map[a.Name] = value;
                else throw new JinjaError($"cannot assign attribute '{a.Name}' of {JinjaValues.TypeName(target)} '{owner.Name}'");
                break;
            case ListExpr l:
                Bind(l.Items.Select(i => ((NameExpr)i).Name).ToList(), value, scope);
                break;
            default: throw new JinjaError("invalid assignment target");
        }
    }

    JinjaCallable MakeMacro(MacroNode m, Scope definedIn) => new(m.Name, (args, kwargs) =>
    {
        var scope = new Scope(definedIn);
        for (int i = 0; i < m.Parameters.Count; i++)
        {
            var (name, fallback) = m.Parameters[i];
            object? value = i < args.Count ? args[i] : kwargs.TryGetValue(name, out var k) ? k : fallback is null ? Undefined.Instance : Eval(fallback, scope);
            scope.Set(name, value);
        }
        scope.Set("varargs", args.Skip(m.Parameters.Count).ToList());
        var output = new StringBuilder();
        Run(m.Body, scope, output);
        return output.ToString();
    });

    public object? Eval(Expr e, Scope scope)
    {
        switch (e)
        {
            case Literal l: return l.Value;
            case NameExpr n: return scope.Get(n.Name);
            case ListExpr l: return l.Items.Select(i => Eval(i, scope)).ToList();
            case DictExpr d:
                var map = new OrderedDictionary<string, object?>();
                foreach (var (k, v) in d.Items)
                {
                    var key = Eval(k, scope);
                    map[key as string ?? JinjaValues.ToText(key)] = Eval(v, scope);
                }
                return map;
            case AttrExpr a: return JinjaBuiltins.Member(Eval(a.Target, scope), a.Name);
            case IndexExpr i: return JinjaBuiltins.Index(Eval(i.Target, scope), Eval(i.Index, scope));
            case SliceExpr s:
                return JinjaBuiltins.Slice(Eval(s.Target, scope), s.Start is null ? null : Eval(s.Start, scope), s.Stop is null ? null : Eval(s.Stop, scope),
                    s.Step is null ? null : Eval(s.Step, scope));
            case CallExpr c:
                var callee = Eval(c.Callee, scope);
                if (callee is not JinjaCallable function) throw new JinjaError($"{Describe(c.Callee)} is not callable ({JinjaValues.TypeName(callee)})");
                return function.Invoke(c.Args.Select(a => Eval(a, scope)).ToList(), c.Kwargs.ToDictionary(k => k.Name, k => Eval(k.Value, scope)));
            case FilterExpr f:
                return JinjaBuiltins.Filter(f.Name, Eval(f.Operand, scope), f.Args.Select(a => Eval(a, scope)).ToList(),
                    f.Kwargs.ToDictionary(k => k.Name, k => Eval(k.Value, scope)), this, scope);
            case TestExpr t:
                bool result = JinjaBuiltins.Test(t.Name, Eval(t.Operand, scope), t.Args.Select(a => Eval(a, scope)).ToList());
                return t.Negated ? !result : result;
            case UnaryExpr u:
                var operand = Eval(u.Operand, scope);
                return u.Op switch
                {
                    "not" => !JinjaValues.Truthy(operand),
                    "-" => operand switch { long x => (object)(-x), double x => -x, _ => throw new JinjaError($"cannot negate {JinjaValues.TypeName(operand)}") },
                    _ => operand,
                };
            case BinaryExpr b:
                if (b.Op == "and") { var left = Eval(b.Left, scope); return JinjaValues.Truthy(left) ? Eval(b.Right, scope) : left; }
                if (b.Op == "or") { var left = Eval(b.Left, scope); return JinjaValues.Truthy(left) ? left : Eval(b.Right, scope); }
                return JinjaBuiltins.Binary(b.Op, Eval(b.Left, scope), Eval(b.Right, scope));
            case CondExpr c:
                return JinjaValues.Truthy(Eval(c.Test, scope)) ? Eval(c.Then, scope) : c.Else is null ? Undefined.Instance : Eval(c.Else, scope);
            default:
                throw new JinjaError($"cannot evaluate {e.GetType().Name}");
        }
    }

    static string Describe(Expr e) => e switch { NameExpr n => $"'{n.Name}'", AttrExpr a => $"'{a.Name}'", _ => "the expression" };
}

/// <summary>An error inside evaluation; the statement that caused it adds its line.</summary>
sealed class JinjaError(string message) : Exception(message);
