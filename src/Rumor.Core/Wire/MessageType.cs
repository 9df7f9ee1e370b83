namespace Rumor.Core.Wire;

/// <summary>
/// Message type ids. Append-only: an id, once released, keeps its meaning forever; retired ids are
/// never reused. Golden-byte tests pin every id.
/// </summary>
public enum MessageType : byte
{
    /// <summary>Several messages in one packet, each length-prefixed.</summary>
    Compound = 1,

    /// <summary>SWIM direct probe.</summary>
    Ping = 2,

    /// <summary>Ask a member to probe a target on our behalf (SWIM ping-req).</summary>
    IndirectPing = 3,

    /// <summary>Reply to a ping or an indirect ping.</summary>
    Ack = 4,

    /// <summary>An indirect prober could not reach the target in time (Lifeguard).</summary>
    Nack = 5,

    /// <summary>A member is alive at an incarnation; carries its address and metadata.</summary>
    Alive = 6,

    /// <summary>A member is suspected of having failed.</summary>
    Suspect = 7,

    /// <summary>A member is dead; when the accuser is the member itself, it left gracefully.</summary>
    Dead = 8,

    /// <summary>Full-state exchange over a stream: join and periodic anti-entropy.</summary>
    PushPull = 9,

    /// <summary>Replicated state: a digest of (owner, generation, max version), full or as a Bloom filter.</summary>
    StateDigest = 10,

    /// <summary>Replicated state: the entries a peer lacks, per owner, contiguous in version.</summary>
    StateDelta = 11,

    /// <summary>Replicated state: a member's checksum of its whole digest, for convergence detection.</summary>
    StateChecksum = 12,

    /// <summary>Heartbeat counters of the φ-accrual detector mode.</summary>
    Heartbeats = 13,

    /// <summary>A user event: a named payload broadcast to every member, ordered by a Lamport clock.</summary>
    UserEvent = 14,

    /// <summary>User events: a summary of the events a member holds within the retention window, for anti-entropy.</summary>
    EventDigest = 15,

    /// <summary>A query: a request for an answer from every member (or those matching a tag filter).</summary>
    Query = 16,

    /// <summary>One member's answer to a query, sent to the asker.</summary>
    QueryResponse = 17,

    /// <summary>Cluster aggregates: a push-sum / extremum gossip share.</summary>
    Aggregate = 18,

    /// <summary>The acking member's network coordinate, right after its <see cref="Ack"/> in the same packet.</summary>
    Coordinate = 19,

    /// <summary>The acking member's membership checksum, right after its <see cref="Ack"/> in the same packet.</summary>
    ViewChecksum = 20,
}

/// <summary>Flags in the packet header.</summary>
[Flags]
public enum PacketFlags : byte
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>The body is compressed (reserved for the compression issue; rejected by v1 decoders).</summary>
    Compressed = 0x01,

    /// <summary>The body is encrypted (reserved for the encryption issue; rejected by v1 decoders).</summary>
    Encrypted = 0x02,
}

/// <summary>Why a packet or message was rejected. The receive path never throws; it returns one of these.</summary>
public enum DecodeError : byte
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The input ended before the structure did.</summary>
    Truncated,

    /// <summary>The input is larger than the configured budget.</summary>
    TooLarge,

    /// <summary>The format version byte is not one we speak.</summary>
    UnsupportedVersion,

    /// <summary>The message type id is unknown.</summary>
    UnknownType,

    /// <summary>The header carries flags this decoder does not support.</summary>
    UnsupportedFlags,

    /// <summary>The CRC32C does not match the bytes.</summary>
    BadChecksum,

    /// <summary>A field is out of range (bad UTF-8, bad address family, a count that the input cannot hold...).</summary>
    Malformed,

    /// <summary>Bytes remain after the last field.</summary>
    TrailingBytes,
}
