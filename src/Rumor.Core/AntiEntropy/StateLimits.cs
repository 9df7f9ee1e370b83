namespace Rumor.Core.AntiEntropy;

/// <summary>
/// Bounds of the replicated state that every layer checks alike: the core when a key is set, the
/// agent's API (<c>PUT /v1/kv/KEY</c>, <c>ttlMs</c>) and the CLI (<c>rumor kv set --ttl</c>), so a
/// value refused by one is refused by all, with the same figure in the message.
/// </summary>
public static class StateLimits
{
    /// <summary>
    /// The longest time to live of a key: what the wire's unsigned 32-bit milliseconds hold
    /// (<see cref="uint.MaxValue"/> ms: 49d17h2m47.295s).
    /// </summary>
    public static readonly TimeSpan TimeToLiveMax = TimeSpan.FromMilliseconds(uint.MaxValue);

    /// <summary><see cref="TimeToLiveMax"/> in whole milliseconds.</summary>
    public const long TimeToLiveMaxMilliseconds = uint.MaxValue;

    /// <summary><see cref="TimeToLiveMax"/> in the duration grammar of messages and options (<c>49d17h2m47.295s</c>).</summary>
    public static readonly string TimeToLiveMaxText = DurationText.Format(TimeToLiveMax);
}
