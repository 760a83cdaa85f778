namespace RolloutCluster.Data.Datasets;

/// <summary>A dataset file and how to read it: its row format, a field mapping over it, and whether bad rows are skipped (and reported) or refuse the file.</summary>
public sealed record DatasetSource(string Path, string Format = "generic", IReadOnlyDictionary<string, string>? Fields = null, bool SkipBadRows = false)
{
    /// <summary>Reads every row into a problem; errors name the file and line (or row) and the field.</summary>
    public LoadedDataset Load()
    {
        var columns = ProblemFormats.Columns(Format, Fields);
        var rows = DatasetFile.Read(Path, (row, index) => ProblemFormats.Map(Format, columns, Fields, row, index), SkipBadRows);
        var problems = rows.Rows.Select(r => r.Item).ToList();
        // Ids must tell rows apart (prompt digests and reports use them): a file without ids gets them from the row index.
        if (problems.Select(p => p.Id).Distinct(StringComparer.Ordinal).Count() != problems.Count)
            problems = rows.Rows.Select(r => r.Item with { Id = $"{r.Item.Id}@{r.Raw.Index}" }).ToList();
        return new LoadedDataset(this, problems, rows.Skipped, rows.Errors);
    }
}

/// <summary>The problems a dataset file gave, and the rows skipped with the reason for each.</summary>
public sealed record LoadedDataset(DatasetSource Source, IReadOnlyList<Problem> Problems, int Skipped, IReadOnlyList<string> Errors);
