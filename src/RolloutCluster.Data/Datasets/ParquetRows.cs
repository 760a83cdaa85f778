using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;
using Parquet.Serialization;

namespace RolloutCluster.Data.Datasets;

/// <summary>
/// Parquet rows (Parquet.Net, fully managed) as JSON objects, so one field mapping serves every file
/// type: strings and numbers stay scalars, lists become arrays, structs become objects.
/// </summary>
static class ParquetRows
{
    public static IEnumerable<(RawRow?, string?)> Read(string path)
    {
        // Off the caller's scheduler (a grain may validate a job): the reader is asynchronous.
        var result = Task.Run(async () =>
        {
            await using var stream = File.OpenRead(path);
            try { return await ParquetSerializer.DeserializeUntypedAsync(stream); }
            catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException
                || e.GetType().Namespace?.StartsWith("Parquet", StringComparison.Ordinal) == true)
            {
                throw new DatasetException($"{path}: not a readable Parquet file: {e.Message}");
            }
        }).GetAwaiter().GetResult();
        int index = 0;
        foreach (var row in result.Data)
        {
            index++;
            var o = new JsonObject();
            foreach (var (key, value) in row) o[key] = ToJson(value);
            yield return (new RawRow($"{path}: row {index}", index, o), null);
        }
    }

    static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
        DateTime d => JsonValue.Create(d.ToString("O", CultureInfo.InvariantCulture)),
        DateTimeOffset d => JsonValue.Create(d.ToString("O", CultureInfo.InvariantCulture)),
        IDictionary dict => new JsonObject(dict.Keys.Cast<object>().Select(k => KeyValuePair.Create(Convert.ToString(k, CultureInfo.InvariantCulture)!, ToJson(dict[k])))),
        IEnumerable items => new JsonArray(items.Cast<object?>().Select(ToJson).ToArray()),
        IConvertible c => c.GetTypeCode() is TypeCode.Double or TypeCode.Single or TypeCode.Decimal
            ? JsonValue.Create(c.ToDouble(CultureInfo.InvariantCulture))
            : JsonValue.Create(c.ToInt64(CultureInfo.InvariantCulture)),
        _ => JsonValue.Create(value.ToString()),
    };
}
