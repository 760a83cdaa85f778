using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace RolloutCluster.Rewards;

/// <summary>
/// A user-supplied reward: POSTs {"completion", "answer", "prompt"} as JSON to an endpoint and reads
/// {"reward": number, "reason": string?} back. A timeout, an error status or a malformed reply scores
/// 0 with the reason; the job goes on. An LLM judge fits behind such an endpoint.
/// </summary>
public sealed class HttpReward(HttpClient client, Uri endpoint, TimeSpan timeout) : IRewardFunction
{
    public string Name => "http";

    public async ValueTask<RewardResult> ScoreAsync(RewardInput input, CancellationToken cancellation = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await client.PostAsJsonAsync(endpoint, new { completion = input.Completion, answer = input.Answer, prompt = input.Prompt }, deadline.Token);
            if (!response.IsSuccessStatusCode) return new RewardResult(0, $"{endpoint} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(deadline.Token), cancellationToken: deadline.Token);
            if (!doc.RootElement.TryGetProperty("reward", out var reward) || reward.ValueKind != JsonValueKind.Number || !double.IsFinite(reward.GetDouble()))
                return new RewardResult(0, $"{endpoint} replied without a numeric \"reward\"");
            var reason = doc.RootElement.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "from " + endpoint.Host;
            return new RewardResult(reward.GetDouble(), reason);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return new RewardResult(0, string.Create(CultureInfo.InvariantCulture, $"{endpoint} did not answer within {timeout.TotalMilliseconds:F0} ms"));
        }
        catch (HttpRequestException e)
        {
            return new RewardResult(0, $"{endpoint} unreachable: {e.Message}");
        }
        catch (JsonException)
        {
            return new RewardResult(0, $"{endpoint} replied with malformed JSON");
        }
    }
}
