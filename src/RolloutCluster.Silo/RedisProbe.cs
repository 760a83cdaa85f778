using StackExchange.Redis;

namespace RolloutCluster.Silo;

/// <summary>
/// Checks that Redis answers before a silo or client starts on it: Orleans would otherwise retry the
/// membership table for minutes with nothing but warnings in the log.
/// </summary>
public static class RedisProbe
{
    /// <summary>Returns null when Redis answers a PING within the timeout, else what is wrong, naming the endpoint.</summary>
    public static async Task<string?> CheckAsync(string connection, TimeSpan timeout)
    {
        var options = ConfigurationOptions.Parse(connection);
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 1;
        options.ConnectTimeout = (int)timeout.TotalMilliseconds;
        string where = string.Join(", ", options.EndPoints.Select(e => e.ToString()));
        try
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(timeout + TimeSpan.FromSeconds(2));
            await redis.GetDatabase().PingAsync().WaitAsync(timeout);
            return null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return $"cannot reach Redis at {where} within {timeout.TotalSeconds:F0} s: {e.Message.Split('\n')[0].Trim()}";
        }
    }
}
