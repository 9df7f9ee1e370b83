namespace Rumor.Core.Membership;

/// <summary>
/// Leaves heard about members we do not know yet (Serf's recent intents, which it keeps for the
/// same reason). A member's leave can outrun its alive: a node that restarts, joins through one
/// seed and leaves at once has told only that seed about itself, so its leave reaches members that
/// have never heard of it, and memberlist's rule (a departure of an unknown member is dropped)
/// loses it there; the seed's alive then reaches them and, the leaver being silent, they declare it
/// dead after the suspicion timeout (VOPR seed 1905). So such a leave is remembered here and
/// gossiped on once (the budget of a new broadcast), and an alive that arrives later for the
/// member, at the leave's generation and an incarnation no higher (or an older generation),
/// adds it as left instead of alive.
/// <para>
/// Invariant: one entry per name, the newest (generation, incarnation) heard; a repeat or an older
/// leave is not news, which is what stops the relay from echoing. Bounded: at most
/// <see cref="Capacity"/> entries (the oldest is dropped first) and each lives for the retention
/// it is given (a departed member we know is reaped after the same time).
/// </para>
/// </summary>
internal sealed class RecentDepartures(int capacity, TimeSpan retention)
{
    /// <summary>The most entries a node keeps (fewer when MembersMax is lower): about 100 bytes each.</summary>
    public const int CapacityMax = 1024;

    private readonly Dictionary<string, Departure> _byName = new(StringComparer.Ordinal);

    public int Capacity { get; } = capacity;

    public int Count => _byName.Count;

    /// <summary>Remembers a leave of an unknown member; true when it is news (nothing held for the name, or an older leave).</summary>
    public bool Remember(string name, ulong generation, uint incarnation, TimeSpan now)
    {
        if (_byName.TryGetValue(name, out Departure held) && now - held.At < retention
            && (held.Generation > generation || (held.Generation == generation && held.Incarnation >= incarnation)))
        {
            return false;
        }

        if (!_byName.ContainsKey(name) && _byName.Count >= Capacity)
        {
            DropOldest();
        }

        _byName[name] = new Departure(generation, incarnation, now);
        return true;
    }

    /// <summary>The leave held for <paramref name="name"/>, if one is and its retention has not passed.</summary>
    public Departure? Find(string name, TimeSpan now) =>
        _byName.TryGetValue(name, out Departure held) && now - held.At < retention ? held : null;

    /// <summary>
    /// Forgets what is held for <paramref name="name"/> (an alive of it arrived) and returns true
    /// with the leave when that leave outranks the alive at (<paramref name="generation"/>,
    /// <paramref name="incarnation"/>): a leave at the same incarnation wins, as for a known member.
    /// </summary>
    public bool TryTakeCovering(string name, ulong generation, uint incarnation, TimeSpan now, out Departure departure)
    {
        if (!_byName.Remove(name, out departure) || now - departure.At >= retention)
        {
            return false;
        }

        return departure.Generation > generation || (departure.Generation == generation && departure.Incarnation >= incarnation);
    }

    private void DropOldest()
    {
        string? oldest = null;
        TimeSpan at = TimeSpan.MaxValue;
        foreach ((string name, Departure departure) in _byName)
        {
            if (departure.At < at)
            {
                (oldest, at) = (name, departure.At);
            }
        }

        if (oldest is not null)
        {
            _byName.Remove(oldest);
        }
    }

    public readonly record struct Departure(ulong Generation, uint Incarnation, TimeSpan At);
}
