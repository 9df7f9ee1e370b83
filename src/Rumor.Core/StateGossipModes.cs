namespace Rumor.Core;

/// <summary>Which way replicated state flows in one anti-entropy exchange.</summary>
public enum GossipStrategy
{
    /// <summary>I send you what you lack (you send your digest first): good for spreading my news.</summary>
    Push,

    /// <summary>You send me what I lack (I send my digest): good for catching up; deletes travel as well as sets.</summary>
    Pull,

    /// <summary>Both, in three steps (digest → deltas + digest → deltas): the fastest, twice the data.</summary>
    PushPull,
}

/// <summary>How the peers of a state-gossip round are chosen.</summary>
public enum PeerSelection
{
    /// <summary>Uniformly at random among alive members.</summary>
    Uniform,

    /// <summary>At random, weighted by the time since we last exchanged state with each: better coverage, more bookkeeping.</summary>
    LeastRecentlyContacted,
}

/// <summary>How a state digest is sent.</summary>
public enum DigestMode
{
    /// <summary>A full digest when it fits the datagram budget, a Bloom filter when it does not.</summary>
    Auto,

    /// <summary>Always the full digest (over a stream when it does not fit a datagram).</summary>
    Full,

    /// <summary>Always a Bloom filter of (owner, generation, max version).</summary>
    Bloom,
}

/// <summary>Which failure detector a cluster runs (every member of a cluster should run the same one).</summary>
public enum FailureDetectorKind
{
    /// <summary>SWIM probes (direct, indirect, stream fallback) with Lifeguard: constant load per member, fast and accurate.</summary>
    Swim,

    /// <summary>Gossiped heartbeat counters judged by a φ-accrual detector (Cassandra, Akka): adapts to each member's observed timing; load grows with N.</summary>
    PhiAccrual,
}
