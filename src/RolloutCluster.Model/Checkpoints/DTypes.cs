using static TorchSharp.torch;

namespace RolloutCluster.Model.Checkpoints;

/// <summary>Names of dtypes in safetensors headers and Hugging Face configs.</summary>
public static class DTypes
{
    static readonly (string SafeTensors, string Config, ScalarType Type, int Size)[] Table =
    [
        ("F32", "float32", ScalarType.Float32, 4),
        ("F16", "float16", ScalarType.Float16, 2),
        ("BF16", "bfloat16", ScalarType.BFloat16, 2),
        ("F64", "float64", ScalarType.Float64, 8),
        ("I64", "int64", ScalarType.Int64, 8),
        ("I32", "int32", ScalarType.Int32, 4),
        ("I16", "int16", ScalarType.Int16, 2),
        ("I8", "int8", ScalarType.Int8, 1),
        ("U8", "uint8", ScalarType.Byte, 1),
        ("BOOL", "bool", ScalarType.Bool, 1),
    ];

    public static ScalarType? FromSafeTensors(string name) =>
        Table.Where(x => x.SafeTensors == name).Select(x => (ScalarType?)x.Type).FirstOrDefault();

    public static string ToSafeTensors(ScalarType type) =>
        Table.Where(x => x.Type == type).Select(x => x.SafeTensors).FirstOrDefault()
        ?? throw new NotSupportedException($"dtype {type} has no safetensors name");

    public static ScalarType? FromConfigName(string name) =>
        Table.Where(x => x.Config == name).Select(x => (ScalarType?)x.Type).FirstOrDefault();

    public static string ToConfigName(ScalarType type) =>
        Table.Where(x => x.Type == type).Select(x => x.Config).First();

    public static int ElementSize(ScalarType type) => Table.First(x => x.Type == type).Size;
}
