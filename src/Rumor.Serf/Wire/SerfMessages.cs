using System.Net;
using MessagePack;

namespace Rumor.Serf.Wire;

// Serf 0.9.4's messages (serf-wire.md 4.2), carried as memberlist user messages [8][serfType][map].

/// <summary>Join intent (serf type 1) or leave intent (type 0, with Prune).</summary>
public sealed record IntentMessage(ulong LTime, string Node, bool Prune = false)
{
    /// <summary><c>[8][1]{LTime, Node}</c>.</summary>
    public byte[] EncodeJoin() => WireBuilder.BuildSerf(SerfType.Join, (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(2);
        GoMsgpack.WriteString(ref w, "LTime");
        w.Write(LTime);
        GoMsgpack.WriteString(ref w, "Node");
        GoMsgpack.WriteString(ref w, Node);
    });

    /// <summary><c>[8][0]{LTime, Node, Prune}</c>.</summary>
    public byte[] EncodeLeave() => WireBuilder.BuildSerf(SerfType.Leave, (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(3);
        GoMsgpack.WriteString(ref w, "LTime");
        w.Write(LTime);
        GoMsgpack.WriteString(ref w, "Node");
        GoMsgpack.WriteString(ref w, Node);
        GoMsgpack.WriteString(ref w, "Prune");
        w.Write(Prune);
    });

    /// <summary>Decodes a body (after the serf type byte).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out IntentMessage message) => Wire.TryDecode(body, out message, m =>
        new IntentMessage(m.UInt("LTime"), m.String("Node"), m.Bool("Prune")));
}

/// <summary>User event (serf type 3): CC = may be coalesced by handlers.</summary>
public sealed record UserEventMessage(ulong LTime, string Name, byte[]? Payload, bool CC)
{
    /// <summary><c>[8][3]{CC, LTime, Name, Payload}</c>.</summary>
    public byte[] Encode() => WireBuilder.BuildSerf(SerfType.UserEvent, (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(4);
        GoMsgpack.WriteString(ref w, "CC");
        w.Write(CC);
        GoMsgpack.WriteString(ref w, "LTime");
        w.Write(LTime);
        GoMsgpack.WriteString(ref w, "Name");
        GoMsgpack.WriteString(ref w, Name);
        GoMsgpack.WriteString(ref w, "Payload");
        GoMsgpack.WriteBytes(ref w, Payload);
    });

    /// <summary>Decodes a body.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out UserEventMessage message) => Wire.TryDecode(body, out message, m =>
        new UserEventMessage(m.UInt("LTime"), m.String("Name"), m.Bytes("Payload"), m.Bool("CC")));
}

/// <summary>Query (serf type 4). Flags bit 0: ack requested; bit 1: do not re-broadcast.</summary>
public sealed record QueryMessage(ulong LTime, uint Id, byte[]? Addr, ushort Port, string SourceNode, IReadOnlyList<byte[]?> Filters, uint Flags,
    byte RelayFactor, long TimeoutNanoseconds, string Name, byte[]? Payload)
{
    /// <summary><c>[8][4]{Addr, Filters, Flags, ID, LTime, Name, Payload, Port, RelayFactor, SourceNode, Timeout}</c>.</summary>
    public byte[] Encode() => WireBuilder.BuildSerf(SerfType.Query, (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(11);
        GoMsgpack.WriteString(ref w, "Addr");
        GoMsgpack.WriteBytes(ref w, Addr);
        GoMsgpack.WriteString(ref w, "Filters");
        if (Filters.Count == 0)
        {
            w.WriteNil();
        }
        else
        {
            w.WriteArrayHeader(Filters.Count);
            foreach (byte[]? filter in Filters)
            {
                GoMsgpack.WriteBytes(ref w, filter);
            }
        }

        GoMsgpack.WriteString(ref w, "Flags");
        w.Write(Flags);
        GoMsgpack.WriteString(ref w, "ID");
        w.Write(Id);
        GoMsgpack.WriteString(ref w, "LTime");
        w.Write(LTime);
        GoMsgpack.WriteString(ref w, "Name");
        GoMsgpack.WriteString(ref w, Name);
        GoMsgpack.WriteString(ref w, "Payload");
        GoMsgpack.WriteBytes(ref w, Payload);
        GoMsgpack.WriteString(ref w, "Port");
        w.Write(Port);
        GoMsgpack.WriteString(ref w, "RelayFactor");
        w.Write(RelayFactor);
        GoMsgpack.WriteString(ref w, "SourceNode");
        GoMsgpack.WriteString(ref w, SourceNode);
        GoMsgpack.WriteString(ref w, "Timeout");
        w.Write(TimeoutNanoseconds);
    });

    /// <summary>Decodes a body.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out QueryMessage message) => Wire.TryDecode(body, out message, m =>
        new QueryMessage(m.UInt("LTime"), (uint)m.UInt("ID", uint.MaxValue), m.Bytes("Addr"), (ushort)m.UInt("Port", ushort.MaxValue), m.String("SourceNode"),
            [.. m.List("Filters").Select(f => f is null ? null : f as byte[] ?? throw new FormatException("Filters: not bytes"))],
            (uint)m.UInt("Flags", uint.MaxValue), (byte)m.UInt("RelayFactor", byte.MaxValue), m.Int("Timeout"), m.String("Name"), m.Bytes("Payload")));
}

/// <summary>Query response (serf type 5), sent straight to the asker by UDP; Flags 1 = ack.</summary>
public sealed record QueryResponseMessage(ulong LTime, uint Id, string From, uint Flags, byte[]? Payload)
{
    /// <summary><c>[8][5]{Flags, From, ID, LTime, Payload}</c>.</summary>
    public byte[] Encode() => WireBuilder.BuildSerf(SerfType.QueryResponse, (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(5);
        GoMsgpack.WriteString(ref w, "Flags");
        w.Write(Flags);
        GoMsgpack.WriteString(ref w, "From");
        GoMsgpack.WriteString(ref w, From);
        GoMsgpack.WriteString(ref w, "ID");
        w.Write(Id);
        GoMsgpack.WriteString(ref w, "LTime");
        w.Write(LTime);
        GoMsgpack.WriteString(ref w, "Payload");
        GoMsgpack.WriteBytes(ref w, Payload);
    });

    /// <summary>Decodes a body.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out QueryResponseMessage message) => Wire.TryDecode(body, out message, m =>
        new QueryResponseMessage(m.UInt("LTime"), (uint)m.UInt("ID", uint.MaxValue), m.String("From"), (uint)m.UInt("Flags", uint.MaxValue), m.Bytes("Payload")));
}

/// <summary>One user event as kept in Serf's event ring.</summary>
public sealed record RingEvent(string Name, byte[]? Payload);

/// <summary>One slot of Serf's 512-slot event ring: the events seen at one Lamport time.</summary>
public sealed record RingSlot(ulong LTime, IReadOnlyList<RingEvent> Events);

/// <summary>
/// Serf's push/pull user state (serf type 2; serf-wire.md 4.5): the member clock and every member's
/// status time, the left members, the event clock and ring, the query clock.
/// </summary>
public sealed record SerfStateMessage(ulong LTime, IReadOnlyDictionary<string, ulong> StatusLTimes, IReadOnlyList<string> LeftMembers,
    ulong EventLTime, IReadOnlyList<RingSlot?> Events, ulong QueryLTime)
{
    /// <summary>Most event-ring slots accepted (Serf sends exactly 512).</summary>
    public const int MaxSlots = 4096;

    /// <summary><c>[2]{EventLTime, Events, LTime, LeftMembers, QueryLTime, StatusLTimes}</c> (no user-message byte: it is the push/pull's user state).</summary>
    public byte[] Encode() => WireBuilder.Build([(byte)SerfType.PushPull], (ref MessagePackWriter w) =>
    {
        w.WriteMapHeader(6);
        GoMsgpack.WriteString(ref w, "EventLTime");
        w.Write(EventLTime);
        GoMsgpack.WriteString(ref w, "Events");
        w.WriteArrayHeader(Events.Count);
        foreach (RingSlot? slot in Events)
        {
            if (slot is null)
            {
                w.WriteNil();
                continue;
            }

            w.WriteMapHeader(2);
            GoMsgpack.WriteString(ref w, "Events");
            w.WriteArrayHeader(slot.Events.Count);
            foreach (RingEvent e in slot.Events)
            {
                w.WriteMapHeader(2);
                GoMsgpack.WriteString(ref w, "Name");
                GoMsgpack.WriteString(ref w, e.Name);
                GoMsgpack.WriteString(ref w, "Payload");
                GoMsgpack.WriteBytes(ref w, e.Payload);
            }

            GoMsgpack.WriteString(ref w, "LTime");
            w.Write(slot.LTime);
        }

        GoMsgpack.WriteString(ref w, "LTime");
        w.Write(LTime);
        GoMsgpack.WriteString(ref w, "LeftMembers");
        w.WriteArrayHeader(LeftMembers.Count);
        foreach (string name in LeftMembers)
        {
            GoMsgpack.WriteString(ref w, name);
        }

        GoMsgpack.WriteString(ref w, "QueryLTime");
        w.Write(QueryLTime);
        GoMsgpack.WriteString(ref w, "StatusLTimes");
        w.WriteMapHeader(StatusLTimes.Count);
        foreach (KeyValuePair<string, ulong> pair in StatusLTimes.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            GoMsgpack.WriteString(ref w, pair.Key);
            w.Write(pair.Value);
        }
    });

    /// <summary>Decodes the user state including its leading type byte 2; false on anything else.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> userState, out SerfStateMessage message)
    {
        message = null!;
        if (userState.Length < 1 || userState.Span[0] != (byte)SerfType.PushPull)
        {
            return false;
        }

        return Wire.TryDecode(userState[1..], out message, m =>
        {
            Dictionary<string, ulong> status = new(StringComparer.Ordinal);
            foreach (KeyValuePair<string, object?> pair in m.Map("StatusLTimes").Values)
            {
                status[pair.Key] = pair.Value switch
                {
                    long l when l >= 0 => (ulong)l,
                    ulong u => u,
                    _ => throw new FormatException("StatusLTimes: not a time"),
                };
            }

            List<string> left = [.. m.List("LeftMembers").Select(v => v is byte[] b ? System.Text.Encoding.UTF8.GetString(b) : throw new FormatException("LeftMembers: not a string"))];
            IReadOnlyList<object?> ring = m.List("Events");
            if (ring.Count > MaxSlots)
            {
                throw new FormatException("Events: too many slots");
            }

            List<RingSlot?> slots = new(ring.Count);
            foreach (object? slot in ring)
            {
                if (slot is null)
                {
                    slots.Add(null);
                    continue;
                }

                GoMap s = slot as GoMap ?? throw new FormatException("Events: not a map");
                List<RingEvent> events = [];
                foreach (object? e in s.List("Events"))
                {
                    GoMap em = e as GoMap ?? throw new FormatException("Events: not a map");
                    events.Add(new RingEvent(em.String("Name"), em.Bytes("Payload")));
                }

                slots.Add(new RingSlot(s.UInt("LTime"), events));
            }

            return new SerfStateMessage(m.UInt("LTime"), status, left, m.UInt("EventLTime"), slots, m.UInt("QueryLTime"));
        });
    }
}

/// <summary>Serf tags in memberlist node meta: <c>0xFF</c> + msgpack map (serf-wire.md 4.1).</summary>
public static class SerfTags
{
    /// <summary>Serf's limit on the whole meta.</summary>
    public const int MaxMetaBytes = 512;

    /// <summary>Encodes tags (sorted by key, so the bytes are stable).</summary>
    public static byte[] Encode(IReadOnlyDictionary<string, string> tags)
    {
        byte[] meta = WireBuilder.Build([0xFF], (ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(tags.Count);
            foreach (KeyValuePair<string, string> pair in tags.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                GoMsgpack.WriteString(ref w, pair.Key);
                GoMsgpack.WriteString(ref w, pair.Value);
            }
        });
        return meta.Length <= MaxMetaBytes ? meta : throw new ArgumentException($"tags encode to {meta.Length} bytes; Serf allows {MaxMetaBytes}", nameof(tags));
    }

    /// <summary>Decodes meta; meta without the 0xFF marker is a legacy role string. False when malformed.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> meta, out Dictionary<string, string> tags)
    {
        tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (meta.IsEmpty)
        {
            return true;
        }

        if (meta.Span[0] != 0xFF)
        {
            tags["role"] = System.Text.Encoding.UTF8.GetString(meta.Span);
            return true;
        }

        if (!GoMsgpack.TryDecodeMap(meta[1..], out GoMap map, out _))
        {
            return false;
        }

        foreach (KeyValuePair<string, object?> pair in map.Values)
        {
            if (pair.Value is not byte[] value)
            {
                return false;
            }

            tags[pair.Key] = System.Text.Encoding.UTF8.GetString(value);
        }

        return true;
    }
}

/// <summary>
/// Relay (serf type 9): <c>[8][9]{DestAddr:{IP, Port, Zone}, DestName}</c> followed by the relayed
/// message without its user-message byte (<c>[5]{…}</c>, a query response). The member that gets it
/// sends <c>[8]</c> + the relayed message to DestAddr (Serf's relayResponse and NotifyMsg).
/// </summary>
public static class RelayMessage
{
    /// <summary>Wraps <paramref name="serfMessage"/> (<c>[8][5]{…}</c> as <see cref="QueryResponseMessage.Encode"/> gives it) for relaying to <paramref name="destination"/>.</summary>
    public static byte[] Encode(IPEndPoint destination, string destinationName, byte[] serfMessage)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(serfMessage);
        byte[] header = WireBuilder.BuildSerf(SerfType.Relay, (ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(2);
            GoMsgpack.WriteString(ref w, "DestAddr");
            w.WriteMapHeader(3);
            GoMsgpack.WriteString(ref w, "IP");
            GoMsgpack.WriteBytes(ref w, destination.Address.GetAddressBytes());
            GoMsgpack.WriteString(ref w, "Port");
            w.Write(destination.Port);
            GoMsgpack.WriteString(ref w, "Zone");
            GoMsgpack.WriteString(ref w, "");
            GoMsgpack.WriteString(ref w, "DestName");
            GoMsgpack.WriteString(ref w, destinationName);
        });
        return [.. header, .. serfMessage.AsSpan(1)];
    }

    /// <summary>Decodes a relay body (after <c>[9]</c>): where to send, and the relayed message (<c>[5]{…}</c>, without the user-message byte).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out IPEndPoint destination, out ReadOnlyMemory<byte> relayed)
    {
        destination = null!;
        relayed = default;
        if (!GoMsgpack.TryDecodeMap(body, out GoMap header, out int consumed))
        {
            return false;
        }

        try
        {
            GoMap address = header.Map("DestAddr");
            byte[]? ip = address.Bytes("IP");
            long port = address.Int("Port");
            if (ip is not { Length: 4 or 16 } || port is <= 0 or > ushort.MaxValue || consumed >= body.Length)
            {
                return false;
            }

            IPAddress parsed = new(ip);
            destination = new IPEndPoint(parsed.IsIPv4MappedToIPv6 ? parsed.MapToIPv4() : parsed, (int)port);
            relayed = body[consumed..];
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>
/// Conflict response (serf type 6): the payload of an answer to <c>_serf_conflict</c>, <c>[6]</c> +
/// the answering member's view of the named member as Serf's <c>Member</c> struct (Status: alive 1, leaving 2, left 3,
/// failed 4), or nil when it
/// does not know it (Serf's handleConflict).
/// </summary>
public static class ConflictResponseMessage
{
    /// <summary><c>[6]{Name, Addr, Port, Tags, Status, ProtocolMin, ProtocolMax, ProtocolCur, DelegateMin, DelegateMax, DelegateCur}</c>, or <c>[6][nil]</c> for an unknown member.</summary>
    public static byte[] Encode(string? name, IPAddress? address, ushort port, IReadOnlyDictionary<string, string>? tags, int status, ReadOnlySpan<byte> vsn)
    {
        byte[] versions = vsn.Length >= 6 ? vsn[..6].ToArray() : new byte[6];
        return WireBuilder.Build([(byte)SerfType.ConflictResponse], (ref MessagePackWriter w) =>
        {
            if (name is null || address is null)
            {
                w.WriteNil();
                return;
            }

            w.WriteMapHeader(11);
            GoMsgpack.WriteString(ref w, "Name");
            GoMsgpack.WriteString(ref w, name);
            GoMsgpack.WriteString(ref w, "Addr");
            GoMsgpack.WriteBytes(ref w, address.GetAddressBytes());
            GoMsgpack.WriteString(ref w, "Port");
            w.Write(port);
            GoMsgpack.WriteString(ref w, "Tags");
            w.WriteMapHeader(tags?.Count ?? 0);
            foreach ((string key, string value) in (IEnumerable<KeyValuePair<string, string>>?)tags ?? [])
            {
                GoMsgpack.WriteString(ref w, key);
                GoMsgpack.WriteString(ref w, value);
            }

            GoMsgpack.WriteString(ref w, "Status");
            w.Write(status);
            string[] fields = ["ProtocolMin", "ProtocolMax", "ProtocolCur", "DelegateMin", "DelegateMax", "DelegateCur"];
            for (int i = 0; i < fields.Length; i++)
            {
                GoMsgpack.WriteString(ref w, fields[i]);
                w.Write(versions[i]);
            }
        });
    }

    /// <summary>Decodes a conflict response payload (with its <c>[6]</c>): the member's name, address and port, or false (a nil member, or malformed).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> payload, out string name, out IPAddress address, out int port)
    {
        name = "";
        address = IPAddress.None;
        port = 0;
        if (payload.Length < 2 || payload.Span[0] != (byte)SerfType.ConflictResponse || !GoMsgpack.TryDecodeMap(payload[1..], out GoMap member, out _))
        {
            return false;
        }

        try
        {
            if (member.Bytes("Addr") is not { Length: 4 or 16 } ip)
            {
                return false;
            }

            name = member.String("Name");
            address = new IPAddress(ip);
            port = (int)member.UInt("Port", ushort.MaxValue);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
