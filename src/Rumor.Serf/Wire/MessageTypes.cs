namespace Rumor.Serf.Wire;

/// <summary>memberlist 0.2.2 message type bytes (serf-wire.md 3.3).</summary>
public enum MemberlistType : byte
{
    Ping = 0,
    IndirectPing = 1,
    Ack = 2,
    Suspect = 3,
    Alive = 4,
    Dead = 5,
    PushPull = 6,
    Compound = 7,
    User = 8,
    Compress = 9,
    Encrypt = 10,
    Nack = 11,
    HasCrc = 12,
    Err = 13,
}

/// <summary>Serf 0.9.4 message types, the first byte of a memberlist user message (serf-wire.md 4.2).</summary>
public enum SerfType : byte
{
    Leave = 0,
    Join = 1,
    PushPull = 2,
    UserEvent = 3,
    Query = 4,
    QueryResponse = 5,
    ConflictResponse = 6,
    KeyRequest = 7,
    KeyResponse = 8,
    Relay = 9,
}

/// <summary>memberlist's node states as carried in push/pull (<c>State</c>).</summary>
public enum MemberlistState
{
    Alive = 0,
    Suspect = 1,
    Dead = 2,
    Left = 3,
}
