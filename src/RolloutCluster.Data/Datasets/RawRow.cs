using System.Text.Json.Nodes;

namespace RolloutCluster.Data.Datasets;

/// <summary>One row of a dataset file as read, with where it came from ("train.jsonl:12", "x.parquet:row 40").</summary>
public sealed record RawRow(string Location, int Index, JsonObject Row);

/// <summary>The rows a dataset file yielded, with the bad rows skipped (only when skipping was asked for) and why.</summary>
public sealed record DatasetRows<T>(IReadOnlyList<(RawRow Raw, T Item)> Rows, int Skipped, IReadOnlyList<string> Errors);
