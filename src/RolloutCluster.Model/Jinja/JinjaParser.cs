using System.Globalization;

namespace RolloutCluster.Model.Jinja;

/// <summary>
/// Parses template tokens into statements (if/elif/else, for with loop filters and else, set and
/// block set, macro, filter blocks, break, continue) and expressions with Jinja's precedence:
/// conditional, or, and, not, comparisons and in, ~, + -, * / // %, **, unary, then postfix
/// attribute, subscript, slice, call, filter and test.
/// </summary>
sealed class JinjaParser(List<Token> tokens)
{
    int _at;

    Token Peek => tokens[_at];
    Token Next() => tokens[_at++];

    JinjaException Error(string message) => new($"template line {Peek.Line}: {message}");

    bool IsOp(string op) => Peek.Kind == TokenKind.Operator && Peek.Value == op;
    bool IsName(string name) => Peek.Kind == TokenKind.Name && Peek.Value == name;

    void Expect(string op)
    {
        if (!IsOp(op)) throw Error($"expected '{op}', found {Describe(Peek)}");
        _at++;
    }

    void ExpectName(string name)
    {
        if (!IsName(name)) throw Error($"expected '{name}', found {Describe(Peek)}");
        _at++;
    }

    static string Describe(Token t) => t.Kind switch
    {
        TokenKind.End => "the end of the template",
        TokenKind.Text => "text",
        TokenKind.Output or TokenKind.Statement => "the end of the tag",
        _ => $"'{t.Value}'",
    };

    public List<Node> ParseTemplate()
    {
        var body = ParseBody([], out var end);
        if (end is not null) throw new JinjaException($"template line {tokens[_at - 1].Line}: unexpected '{end}'");
        return body;
    }

    /// <summary>Statements until one of the given block keywords (returned in end, consumed) or the end of the template.</summary>
    List<Node> ParseBody(string[] enders, out string? end)
    {
        var body = new List<Node>();
        while (true)
        {
            var t = Peek;
            switch (t.Kind)
            {
                case TokenKind.End:
                    if (enders.Length > 0) throw new JinjaException($"template line {t.Line}: missing {string.Join(" or ", enders.Select(e => $"'{{% {e} %}}'"))}");
                    end = null;
                    return body;
                case TokenKind.Text:
                    body.Add(new TextNode(Next().Value, t.Line));
                    break;
                case TokenKind.Output:
                    Next();
                    var value = ParseExpression();
                    EndTag();
                    body.Add(new OutputNode(value, t.Line));
                    break;
                case TokenKind.Statement:
                    Next();
                    if (Peek.Kind == TokenKind.Name && enders.Contains(Peek.Value))
                    {
                        end = Next().Value;
                        return body;
                    }
                    body.Add(ParseStatement(t.Line));
                    break;
                default:
                    throw Error($"unexpected {Describe(t)}");
            }
        }
    }

    /// <summary>The end of a tag: the next token is text, another tag, or the end.</summary>
    void EndTag()
    {
        if (Peek.Kind is not (TokenKind.Text or TokenKind.Output or TokenKind.Statement or TokenKind.End))
            throw Error($"expected the end of the tag, found {Describe(Peek)}");
    }

    Node ParseStatement(int line)
    {
        if (Peek.Kind != TokenKind.Name) throw Error($"expected a statement, found {Describe(Peek)}");
        var keyword = Next().Value;
        switch (keyword)
        {
            case "if":
                return ParseIf(line);
            case "for":
            {
                var targets = new List<string> { ExpectIdentifier() };
                while (IsOp(",")) { Next(); targets.Add(ExpectIdentifier()); }
                ExpectName("in");
                var iterable = ParseConditionalFree();
                Expr? filter = null;
                if (IsName("if")) { Next(); filter = ParseExpression(); }
                EndTag();
                var body = ParseBody(["endfor", "else"], out var end);
                var otherwise = new List<Node>();
                if (end == "else") { EndTag(); otherwise = ParseBody(["endfor"], out _); }
                EndTag();
                return new ForNode(targets, iterable, filter, body, otherwise, line);
            }
            case "set":
            {
                var target = ParsePrimaryTarget();
                if (IsOp("="))
                {
                    Next();
                    var value = ParseExpression();
                    EndTag();
                    return new SetNode(target, value, null, line);
                }
                EndTag();
                var body = ParseBody(["endset"], out _);
                EndTag();
                return new SetNode(target, null, body, line);
            }
            case "macro":
            {
                var name = ExpectIdentifier();
                Expect("(");
                var parameters = new List<(string, Expr?)>();
                while (!IsOp(")"))
                {
                    var p = ExpectIdentifier();
                    Expr? fallback = null;
                    if (IsOp("=")) { Next(); fallback = ParseExpression(); }
                    parameters.Add((p, fallback));
                    if (!IsOp(")")) Expect(",");
                }
                Next();
                EndTag();
                var body = ParseBody(["endmacro"], out _);
                EndTag();
                return new MacroNode(name, parameters, body, line);
            }
            case "filter":
            {
                var name = ExpectIdentifier();
                var args = new List<Expr>();
                if (IsOp("(")) { var (a, _) = ParseArguments(); args = a; }
                EndTag();
                var body = ParseBody(["endfilter"], out _);
                EndTag();
                return new FilterBlockNode(name, args, body, line);
            }
            case "break":
                EndTag();
                return new BreakNode(line);
            case "continue":
                EndTag();
                return new ContinueNode(line);
            default:
                throw new JinjaException($"template line {line}: unknown tag '{keyword}'");
        }
    }

    IfNode ParseIf(int line)
    {
        var test = ParseExpression();
        EndTag();
        var body = ParseBody(["elif", "else", "endif"], out var end);
        var otherwise = new List<Node>();
        if (end == "elif") otherwise.Add(ParseIf(Peek.Line));
        else if (end == "else")
        {
            EndTag();
            otherwise = ParseBody(["endif"], out _);
            EndTag();
        }
        else EndTag();
        return new IfNode(test, body, otherwise, line);
    }

    string ExpectIdentifier()
    {
        if (Peek.Kind != TokenKind.Name) throw Error($"expected a name, found {Describe(Peek)}");
        return Next().Value;
    }

    /// <summary>A set target: a name, name.attr, or names separated by commas.</summary>
    Expr ParsePrimaryTarget()
    {
        int line = Peek.Line;
        Expr target = new NameExpr(ExpectIdentifier(), line);
        while (IsOp(".")) { Next(); target = new AttrExpr(target, ExpectIdentifier(), line); }
        if (!IsOp(",")) return target;
        var items = new List<Expr> { target };
        while (IsOp(",")) { Next(); items.Add(new NameExpr(ExpectIdentifier(), line)); }
        return new ListExpr(items, true, line);
    }

    public Expr ParseExpression()
    {
        var expr = ParseOr();
        if (!IsName("if")) return expr;
        int line = Next().Line;
        var test = ParseOr();
        Expr? otherwise = null;
        if (IsName("else")) { Next(); otherwise = ParseExpression(); }
        return new CondExpr(test, expr, otherwise, line);
    }

    /// <summary>An expression without a trailing "if" (a for loop's iterable, whose "if" is its filter).</summary>
    Expr ParseConditionalFree() => ParseOr();

    Expr ParseOr()
    {
        var left = ParseAnd();
        while (IsName("or")) { int line = Next().Line; left = new BinaryExpr("or", left, ParseAnd(), line); }
        return left;
    }

    Expr ParseAnd()
    {
        var left = ParseNot();
        while (IsName("and")) { int line = Next().Line; left = new BinaryExpr("and", left, ParseNot(), line); }
        return left;
    }

    Expr ParseNot()
    {
        if (IsName("not")) { int line = Next().Line; return new UnaryExpr("not", ParseNot(), line); }
        return ParseCompare();
    }

    static readonly string[] Comparisons = ["==", "!=", "<", ">", "<=", ">="];

    Expr ParseCompare()
    {
        var left = ParseConcat();
        while (true)
        {
            int line = Peek.Line;
            if (Peek.Kind == TokenKind.Operator && Comparisons.Contains(Peek.Value)) left = new BinaryExpr(Next().Value, left, ParseConcat(), line);
            else if (IsName("in")) { Next(); left = new BinaryExpr("in", left, ParseConcat(), line); }
            else if (IsName("not") && tokens[_at + 1] is { Kind: TokenKind.Name, Value: "in" }) { _at += 2; left = new BinaryExpr("not in", left, ParseConcat(), line); }
            else return left;
        }
    }

    Expr ParseConcat()
    {
        var left = ParseAdditive();
        while (IsOp("~")) { int line = Next().Line; left = new BinaryExpr("~", left, ParseAdditive(), line); }
        return left;
    }

    Expr ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (IsOp("+") || IsOp("-")) { var t = Next(); left = new BinaryExpr(t.Value, left, ParseMultiplicative(), t.Line); }
        return left;
    }

    Expr ParseMultiplicative()
    {
        var left = ParsePower();
        while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) { var t = Next(); left = new BinaryExpr(t.Value, left, ParsePower(), t.Line); }
        return left;
    }

    Expr ParsePower()
    {
        var left = ParseUnary();
        while (IsOp("**")) { var t = Next(); left = new BinaryExpr("**", left, ParseUnary(), t.Line); }
        return left;
    }

    /// <summary>As Jinja: a sign applies to the operand before any filter, so -4|abs is 4.</summary>
    Expr ParseUnary(bool withFilters = true)
    {
        Expr node;
        if (IsOp("-") || IsOp("+")) { var t = Next(); node = new UnaryExpr(t.Value, ParseUnary(withFilters: false), t.Line); }
        else node = ParsePostfix(ParsePrimary());
        return withFilters ? ParseFiltersAndTests(node) : node;
    }

    Expr ParseFiltersAndTests(Expr expr)
    {
        while (true)
        {
            if (IsOp("|"))
            {
                int line = Next().Line;
                var name = ExpectIdentifier();
                var (args, kwargs) = IsOp("(") ? ParseArguments() : ([], []);
                expr = ParsePostfix(new FilterExpr(expr, name, args, kwargs, line));
            }
            else if (IsName("is"))
            {
                int line = Next().Line;
                bool negated = false;
                if (IsName("not")) { Next(); negated = true; }
                var name = Peek.Kind == TokenKind.Name ? Next().Value : Peek.Kind == TokenKind.Operator && Peek.Value is "==" or "!=" ? Next().Value
                    : throw Error($"expected a test name after 'is', found {Describe(Peek)}");
                var args = new List<Expr>();
                if (IsOp("(")) args = ParseArguments().Args;
                else if (name is "eq" or "equalto" or "sameas" or "divisibleby" or "==" or "!=" or "lt" or "gt" or "le" or "ge" or "ne" or "in"
                    && Peek.Kind is TokenKind.Integer or TokenKind.Float or TokenKind.String or TokenKind.Name && !IsName("and") && !IsName("or") && !IsName("else"))
                    args.Add(ParsePostfix(ParsePrimary()));
                expr = new TestExpr(expr, name, negated, args, line);
            }
            else return expr;
        }
    }

    Expr ParsePostfix(Expr expr)
    {
        while (true)
        {
            int line = Peek.Line;
            if (IsOp("."))
            {
                Next();
                expr = Peek.Kind == TokenKind.Integer ? new IndexExpr(expr, new Literal(long.Parse(Next().Value, CultureInfo.InvariantCulture), line), line)
                    : new AttrExpr(expr, ExpectIdentifier(), line);
            }
            else if (IsOp("["))
            {
                Next();
                Expr? start = null, stop = null, step = null;
                bool slice = false;
                if (!IsOp(":")) start = ParseExpression();
                if (IsOp(":"))
                {
                    slice = true;
                    Next();
                    if (!IsOp(":") && !IsOp("]")) stop = ParseExpression();
                    if (IsOp(":")) { Next(); if (!IsOp("]")) step = ParseExpression(); }
                }
                Expect("]");
                expr = slice ? new SliceExpr(expr, start, stop, step, line) : new IndexExpr(expr, start!, line);
            }
            else if (IsOp("("))
            {
                var (args, kwargs) = ParseArguments();
                expr = new CallExpr(expr, args, kwargs, line);
            }
            else return expr;
        }
    }

    (List<Expr> Args, List<(string, Expr)> Kwargs) ParseArguments()
    {
        Expect("(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!IsOp(")"))
        {
            if (Peek.Kind == TokenKind.Name && tokens[_at + 1] is { Kind: TokenKind.Operator, Value: "=" })
            {
                var name = Next().Value;
                Next();
                kwargs.Add((name, ParseExpression()));
            }
            else args.Add(ParseExpression());
            if (!IsOp(")")) Expect(",");
        }
        Next();
        return (args, kwargs);
    }

    Expr ParsePrimary()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case TokenKind.String:
                Next();
                var text = t.Value;
                // Adjacent string literals concatenate, as in Python.
                while (Peek.Kind == TokenKind.String) text += Next().Value;
                return new Literal(text, t.Line);
            case TokenKind.Integer:
                Next();
                return new Literal(long.Parse(t.Value, CultureInfo.InvariantCulture), t.Line);
            case TokenKind.Float:
                Next();
                return new Literal(double.Parse(t.Value, CultureInfo.InvariantCulture), t.Line);
            case TokenKind.Name:
                Next();
                return t.Value switch
                {
                    "true" or "True" => new Literal(true, t.Line),
                    "false" or "False" => new Literal(false, t.Line),
                    "none" or "None" => new Literal(null, t.Line),
                    _ => new NameExpr(t.Value, t.Line),
                };
            case TokenKind.Operator when t.Value == "(":
            {
                Next();
                if (IsOp(")")) { Next(); return new ListExpr([], true, t.Line); }
                var first = ParseExpression();
                if (!IsOp(",")) { Expect(")"); return first; }
                var items = new List<Expr> { first };
                while (IsOp(",")) { Next(); if (IsOp(")")) break; items.Add(ParseExpression()); }
                Expect(")");
                return new ListExpr(items, true, t.Line);
            }
            case TokenKind.Operator when t.Value == "[":
            {
                Next();
                var items = new List<Expr>();
                while (!IsOp("]")) { items.Add(ParseExpression()); if (!IsOp("]")) Expect(","); }
                Next();
                return new ListExpr(items, false, t.Line);
            }
            case TokenKind.Operator when t.Value == "{":
            {
                Next();
                var items = new List<(Expr, Expr)>();
                while (!IsOp("}"))
                {
                    var key = ParseExpression();
                    Expect(":");
                    items.Add((key, ParseExpression()));
                    if (!IsOp("}")) Expect(",");
                }
                Next();
                return new DictExpr(items, t.Line);
            }
            default:
                throw Error($"expected an expression, found {Describe(t)}");
        }
    }
}
