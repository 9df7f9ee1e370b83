namespace Rumor.Core.Wire;

/// <summary>Hard limits of wire format v1. Options may set tighter budgets, never looser ones.</summary>
public static class WireLimits
{
    /// <summary>The format version this code writes and reads.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Header: version, type, flags.</summary>
    public const int HeaderBytes = 3;

    /// <summary>Trailer: CRC32C over header and body.</summary>
    public const int TrailerBytes = 4;

    /// <summary>Header plus trailer.</summary>
    public const int OverheadBytes = HeaderBytes + TrailerBytes;

    /// <summary>Compound body overhead: the message count byte.</summary>
    public const int CompoundHeaderBytes = 1;

    /// <summary>Per message inside a compound: two length bytes (the type byte is counted in the message).</summary>
    public const int CompoundEntryOverheadBytes = 2;

    /// <summary>At most this many messages in one compound packet.</summary>
    public const int CompoundMaxMessages = 255;

    /// <summary>Member names are at most this many bytes of UTF-8.</summary>
    public const int NameMaxBytes = 255;

    /// <summary>Member metadata is at most this many bytes (options may lower it).</summary>
    public const int MetaMaxBytes = 4096;

    /// <summary>The largest datagram a v1 decoder accepts, whatever the budget (UDP's own ceiling).</summary>
    public const int DatagramMaxBytes = 65507;

    /// <summary>The largest stream message a v1 decoder accepts, whatever the options (64 MiB).</summary>
    public const int StreamMaxBytes = 64 * 1024 * 1024;

    /// <summary>At most this many member states in one push-pull.</summary>
    public const int PushPullMaxMembers = 1 << 20;

    /// <summary>At most this many extension sections in one push-pull.</summary>
    public const int PushPullMaxSections = 16;
}
