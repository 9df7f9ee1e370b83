using System.Net;
using Rumor.Core.FailureDetection;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

/// <summary>
/// One member's record inside a <see cref="SerfNode"/>: memberlist's node state (address, meta,
/// incarnation, state, versions) and Serf's member state (status, status Lamport time, tags).
/// Mutated only under the node's lock.
/// </summary>
internal sealed class Peer(string name, IPAddress address, ushort port)
{
    public string Name { get; } = name;

    public IPAddress Address { get; set; } = address;

    public ushort Port { get; set; } = port;

    public byte[]? Meta { get; set; }

    public uint Incarnation { get; set; }

    public MemberlistState State { get; set; } = MemberlistState.Dead;

    public byte[] Vsn { get; set; } = [];

    public TimeSpan StateChangedAt { get; set; }

    public Suspicion? Suspicion { get; set; }

    public SerfMemberStatus Status { get; set; } = SerfMemberStatus.Failed;

    public ulong StatusLTime { get; set; }

    /// <summary>When the Serf status became failed or left (Serf's leaveTime, the reaper's clock); null while alive or leaving.</summary>
    public TimeSpan? LeftOrFailedAt { get; set; }

    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

    /// <summary>memberlist's PMax: gates CRC (≥ 5), nacks (≥ 4).</summary>
    public int ProtocolMax => Vsn.Length >= 2 ? Vsn[1] : 0;

    public NodeRecord ToRecord() => new(Name, Address.GetAddressBytes(), Port, Meta, Incarnation, Vsn, State);

    public SerfMember Snapshot() => new(Name, Address, Port, new Dictionary<string, string>(Tags, StringComparer.Ordinal), Status, State, Incarnation, StatusLTime, [.. Vsn]);
}
