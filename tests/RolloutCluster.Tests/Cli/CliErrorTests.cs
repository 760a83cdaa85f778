using RolloutCluster.Cli;
using RolloutCluster.Model.Checkpoints;

namespace RolloutCluster.Tests.Cli;

/// <summary>Bad files reach the user as one line naming the file and the problem, never as a stack trace.</summary>
public sealed class CliErrorTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.RunAsync(args, stdout, stderr).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }

    static string FreshCheckpoint()
    {
        var dir = TinyModels.TempDir();
        var (code, _, err) = Run("init", dir, "--preset", "tiny", "--seed", "3");
        Assert.True(code == 0, err);
        return dir;
    }

    static void AssertOneLine(string stderr, string startsWith, string contains)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: " + startsWith, lines[0]);
        Assert.Contains(contains, lines[0]);
        Assert.DoesNotContain(" at ", lines[0]);
    }

    [Fact]
    public void A_dashboard_port_in_use_is_one_line_before_any_silo_starts()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var dir = TinyModels.TempDir();
        var job = Path.Combine(dir, "job.yaml");
        File.WriteAllText(job, RolloutCluster.Tests.Training.JobRunTests.Job);
        var (code, stdout, stderr) = Run("run", job, "--output", Path.Combine(dir, "runs"), "--dashboard-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(CliApp.BadInput, code);
        AssertOneLine(stderr, $"port {port} on 127.0.0.1 is in use", "pass --dashboard-port with another port");
        Assert.DoesNotContain("embedded silo up", stdout);
    }

    [Fact]
    public void A_good_checkpoint_inspects_and_generates()
    {
        var dir = FreshCheckpoint();
        var (code, stdout, stderr) = Run("inspect", dir);
        Assert.True(code == 0, stderr);
        Assert.Contains("773,120 parameters", stdout);
        (code, stdout, stderr) = Run("generate", dir, "--prompt", "Compute: 1 + 1", "--samples", "2", "--max-new-tokens", "8", "--seed", "4");
        Assert.True(code == 0, stderr);
        Assert.Equal(2, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void A_truncated_safetensors_file_is_one_line()
    {
        var dir = FreshCheckpoint();
        var path = Path.Combine(dir, Checkpoint.WeightsFile);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var (code, _, stderr) = Run("inspect", dir);
        Assert.Equal(CliApp.BadInput, code);
        AssertOneLine(stderr, path + ": truncated", "needs bytes");
    }

    [Fact]
    public void A_config_with_a_missing_field_is_one_line()
    {
        var dir = FreshCheckpoint();
        var path = Path.Combine(dir, Checkpoint.ConfigFile);
        File.WriteAllLines(path, File.ReadAllLines(path).Where(l => !l.Contains("\"hidden_size\"")));
        var (code, _, stderr) = Run("generate", dir, "--prompt", "hi");
        Assert.Equal(CliApp.BadInput, code);
        AssertOneLine(stderr, path + ":", "hidden_size");
    }

    [Fact]
    public void A_tokenizer_that_is_not_json_is_one_line()
    {
        var dir = FreshCheckpoint();
        var path = Path.Combine(dir, Checkpoint.TokenizerFile);
        File.WriteAllText(path, "{ \"model\": { \"type\": \"BPE\", ");
        var (code, _, stderr) = Run("inspect", dir);
        Assert.Equal(CliApp.BadInput, code);
        AssertOneLine(stderr, path + ": not valid JSON", "LineNumber");
    }

    [Fact]
    public void Bad_flags_are_one_line()
    {
        var dir = FreshCheckpoint();
        var (code, _, stderr) = Run("generate", dir, "--prompt", "hi", "--top-p", "0");
        Assert.Equal(CliApp.BadInput, code);
        AssertOneLine(stderr, "top_p", "(0, 1]");
        (code, _, stderr) = Run("generate", dir, "--prompt", "hi", "--device", "tpu");
        Assert.Equal(CliApp.BadInput, code);
        AssertOneLine(stderr, "--device", "tpu");
    }
}
