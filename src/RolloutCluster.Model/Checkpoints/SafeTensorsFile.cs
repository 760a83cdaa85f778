using System.Text;
using System.Text.Json;
using RolloutCluster.Model.Weights;
using static TorchSharp.torch;

namespace RolloutCluster.Model.Checkpoints;

/// <summary>Where one tensor lies in a safetensors file.</summary>
public sealed record SafeTensorEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header of
/// {name: {dtype, shape, data_offsets}}, then raw little-endian tensor data. Read and written here
/// directly so that every malformed file gets an error naming the file, the tensor and the fault.
/// </summary>
public sealed class SafeTensorsFile
{
    const long MaxHeaderBytes = 100L << 20;

    SafeTensorsFile(string path, long dataStart, IReadOnlyDictionary<string, SafeTensorEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        DataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
    }

    public string Path { get; }
    public long DataStart { get; }
    public IReadOnlyDictionary<string, SafeTensorEntry> Entries { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads and checks the header: every tensor's bytes must lie inside the file and match its shape.</summary>
    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        using var stream = File.OpenRead(path);
        long length = stream.Length;
        if (length < 8) throw new ModelFormatException(path, $"truncated: {length} bytes, too short for a safetensors header");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        long headerSize = BitConverter.ToInt64(prefix);
        if (headerSize <= 0 || headerSize > MaxHeaderBytes)
            throw new ModelFormatException(path, $"header length {headerSize} is not plausible; not a safetensors file");
        if (8 + headerSize > length)
            throw new ModelFormatException(path, $"truncated: header needs {headerSize} bytes but the file has {length - 8} after the length prefix");
        var header = new byte[headerSize];
        stream.ReadExactly(header);

        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new ModelFormatException(path, $"header is not valid JSON: {e.Message}"); }
        using (doc)
        {
            long dataStart = 8 + headerSize, dataLength = length - dataStart;
            var entries = new Dictionary<string, SafeTensorEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException(path, "header must be a JSON object");
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                    continue;
                }
                var entry = ParseEntry(path, property);
                if (entry.End > dataLength)
                    throw new ModelFormatException(path, $"truncated: tensor '{entry.Name}' needs bytes [{entry.Begin}, {entry.End}) of the data section but it has {dataLength}");
                entries[entry.Name] = entry;
            }
            return new SafeTensorsFile(path, dataStart, entries, metadata);
        }
    }

    static SafeTensorEntry ParseEntry(string path, JsonProperty property)
    {
        var name = property.Name;
        try
        {
            var e = property.Value;
            var dtypeName = e.GetProperty("dtype").GetString() ?? "";
            var dtype = DTypes.FromSafeTensors(dtypeName)
                ?? throw new ModelFormatException(path, $"tensor '{name}' has unsupported dtype '{dtypeName}'");
            var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            var offsets = e.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                throw new ModelFormatException(path, $"tensor '{name}' has invalid data_offsets [{string.Join(", ", offsets)}]");
            long expected = shape.Aggregate(1L, (a, b) => a * b) * DTypes.ElementSize(dtype);
            if (offsets[1] - offsets[0] != expected)
                throw new ModelFormatException(path, $"tensor '{name}' of shape [{string.Join(", ", shape)}] {dtypeName} needs {expected} bytes but data_offsets span {offsets[1] - offsets[0]}");
            return new SafeTensorEntry(name, dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelFormatException(path, $"tensor '{name}' has a malformed header entry: {e.Message}");
        }
    }

    /// <summary>Reads one tensor into CPU memory with the file's dtype (any size: streamed in pieces, no byte[] of it).</summary>
    public Tensor Read(string name)
    {
        var entry = Entries[name];
        var t = empty(entry.Shape, entry.DType);
        Fill(entry, t);
        return t;
    }

    /// <summary>
    /// Reads one tensor into target, which has its shape: straight from the file into target's memory
    /// when it is a contiguous CPU tensor of the file's dtype (a parameter, or a view into a fused one),
    /// so loading a model holds no second copy of it; otherwise through a temporary of that one tensor.
    /// </summary>
    public void ReadInto(string name, Tensor target)
    {
        var entry = Entries[name];
        if (target.device_type == TorchSharp.DeviceType.CPU && target.is_contiguous() && target.dtype == entry.DType)
        {
            Fill(entry, target);
            return;
        }
        using var staged = Read(name);
        target.copy_(staged);
    }

    void Fill(SafeTensorEntry entry, Tensor t)
    {
        if (entry.End == entry.Begin) return;
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        stream.Seek(DataStart + entry.Begin, SeekOrigin.Begin);
        TensorBytes.ForEachPiece(t, (_, piece) => stream.ReadExactly(piece.bytes));
    }

    /// <summary>Writes tensors (any device, any layout) to a safetensors file, with format "pt" metadata as transformers requires.</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.Select(x => (x.Name, Tensor: x.Tensor.detach().cpu().contiguous())).ToList();
        try
        {
            var header = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["__metadata__"] = metadata ?? new Dictionary<string, string> { ["format"] = "pt" },
            };
            long offset = 0;
            foreach (var (name, t) in list)
            {
                long size = t.NumberOfElements * t.ElementSize;
                header[name] = new
                {
                    dtype = DTypes.ToSafeTensors(t.dtype),
                    shape = t.shape,
                    data_offsets = new[] { offset, offset + size },
                };
                offset += size;
            }
            var json = JsonSerializer.SerializeToUtf8Bytes(header);
            int padded = (json.Length + 7) / 8 * 8; // keep the data 8-byte aligned, padding with spaces as the reference writer does
            var headerBytes = new byte[padded];
            Array.Fill(headerBytes, (byte)' ');
            json.CopyTo(headerBytes, 0);

            var temp = path + ".tmp";
            using (var stream = File.Create(temp))
            {
                stream.Write(BitConverter.GetBytes((long)padded));
                stream.Write(headerBytes);
                foreach (var (_, t) in list) TensorBytes.ForEachPiece(t, (_, piece) => stream.Write(piece.bytes));
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            foreach (var (_, t) in list) t.Dispose();
        }
    }
}
