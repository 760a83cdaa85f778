using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace RolloutCluster.Cli;

/// <summary>Loggers for CLI verbs: warnings and errors, one line each, on stderr (stdout carries the verb's output).</summary>
public static class Logging
{
    public static ILoggerFactory Stderr(LogLevel minimum = LogLevel.Warning) => LoggerFactory.Create(b => b
        .SetMinimumLevel(minimum)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .AddSimpleConsole(o => o.SingleLine = true));
}
