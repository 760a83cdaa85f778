using Parquet.Serialization;
using RolloutCluster.Data;
using RolloutCluster.Data.Datasets;

namespace RolloutCluster.Tests.Data;

/// <summary>Parquet files (as Hugging Face datasets ship them), written here by Parquet.Net's own serializer.</summary>
public sealed class ParquetDatasetTests
{
    public sealed class MathRow
    {
        public string? Query { get; set; }
        public long Expected { get; set; }
    }

    public sealed class CodeRow
    {
        public string? Text { get; set; }
        public List<string>? Asserts { get; set; }
    }

    static async Task<string> Write<T>(IEnumerable<T> rows)
    {
        var path = Path.Combine(TinyModels.TempDir(), "rows.parquet");
        await ParquetSerializer.SerializeAsync(rows, path);
        return path;
    }

    [Fact]
    public async Task Rows_are_read_through_a_field_mapping_with_numbers_and_lists()
    {
        var path = await Write(Enumerable.Range(0, 50).Select(i => new MathRow { Query = $"Compute: {i} + 1", Expected = i + 1 }));
        var problems = new DatasetSource(path, "generic", new Dictionary<string, string> { ["prompt"] = "Query", ["answer"] = "Expected" }).Load().Problems;
        Assert.Equal(50, problems.Count);
        Assert.Equal(("Compute: 7 + 1", "8"), (problems[7].Question, problems[7].Answer));

        var code = await Write([new CodeRow { Text = "def f(): return 1\n", Asserts = ["assert f() == 1", "assert f() != 2"] }]);
        var p = new DatasetSource(code, "generic", new Dictionary<string, string> { ["prompt"] = "Text", ["tests"] = "Asserts" }).Load().Problems.Single();
        Assert.Equal(["assert f() == 1", "assert f() != 2"], p.TestCases!);
    }

    [Fact]
    public async Task A_file_of_another_schema_is_refused_naming_the_missing_column_and_the_ones_it_has()
    {
        var path = await Write([new MathRow { Query = "q", Expected = 1 }]);
        var e = Assert.Throws<DatasetException>(() => new DatasetSource(path, "gsm8k").Load());
        Assert.Equal($"{path}: row 1: missing field 'question' (mapped as prompt); the row has: Query, Expected", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_parquet_is_refused_by_name()
    {
        var path = Path.Combine(TinyModels.TempDir(), "fake.parquet");
        File.WriteAllText(path, "{\"prompt\": \"not parquet\"}\n");
        var e = Assert.Throws<DatasetException>(() => new DatasetSource(path).Load());
        Assert.StartsWith($"{path}: not a readable Parquet file:", e.Message);
    }
}
