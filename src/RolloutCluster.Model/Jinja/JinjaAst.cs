namespace RolloutCluster.Model.Jinja;

/// <summary>Template statements, each with the line it starts on (for errors).</summary>
abstract record Node(int Line);
sealed record TextNode(string Text, int Line) : Node(Line);
sealed record OutputNode(Expr Value, int Line) : Node(Line);
sealed record IfNode(Expr Test, List<Node> Body, List<Node> Else, int Line) : Node(Line);
sealed record ForNode(List<string> Targets, Expr Iterable, Expr? Filter, List<Node> Body, List<Node> Else, int Line) : Node(Line);
sealed record SetNode(Expr Target, Expr? Value, List<Node>? Body, int Line) : Node(Line);
sealed record MacroNode(string Name, List<(string Name, Expr? Default)> Parameters, List<Node> Body, int Line) : Node(Line);
sealed record FilterBlockNode(string Filter, List<Expr> Args, List<Node> Body, int Line) : Node(Line);
sealed record BreakNode(int Line) : Node(Line);
sealed record ContinueNode(int Line) : Node(Line);

/// <summary>Expressions.</summary>
abstract record Expr(int Line);
sealed record Literal(object? Value, int Line) : Expr(Line);
sealed record NameExpr(string Name, int Line) : Expr(Line);
sealed record ListExpr(List<Expr> Items, bool Tuple, int Line) : Expr(Line);
sealed record DictExpr(List<(Expr Key, Expr Value)> Items, int Line) : Expr(Line);
sealed record AttrExpr(Expr Target, string Name, int Line) : Expr(Line);
sealed record IndexExpr(Expr Target, Expr Index, int Line) : Expr(Line);
sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);
sealed record CallExpr(Expr Callee, List<Expr> Args, List<(string Name, Expr Value)> Kwargs, int Line) : Expr(Line);
sealed record FilterExpr(Expr Operand, string Name, List<Expr> Args, List<(string Name, Expr Value)> Kwargs, int Line) : Expr(Line);
sealed record TestExpr(Expr Operand, string Name, bool Negated, List<Expr> Args, int Line) : Expr(Line);
sealed record UnaryExpr(string Op, Expr Operand, int Line) : Expr(Line);
sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line) : Expr(Line);
sealed record CondExpr(Expr Test, Expr Then, Expr? Else, int Line) : Expr(Line);
