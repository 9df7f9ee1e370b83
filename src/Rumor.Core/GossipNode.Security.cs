using Rumor.Core.Security;

namespace Rumor.Core;

/// <summary>The kernel's side of encryption: <see cref="PacketSecurity"/> seals and opens every packet (docs/SECURITY.md).</summary>
public sealed partial class GossipNode
{
    private readonly PacketSecurity _security;

    /// <summary>The edge's security, for the key operations (Security/GossipNodeKeys).</summary>
    internal PacketSecurity Security => _security;

    /// <summary>
    /// With a keyring: refuse plaintext (true, the default) or accept it while still sending
    /// encrypted (false, for migrating a running cluster). Changeable at run time from the loop.
    /// </summary>
    public bool VerifyIncoming { get => _security.VerifyIncoming; set => _security.VerifyIncoming = value; }

    /// <summary>
    /// With a keyring: seal what we send (true, the default) or send plaintext while already accepting
    /// both (false: the first step of migrating a running cluster). Changeable at run time from the loop.
    /// </summary>
    public bool EncryptOutgoing { get => _security.EncryptOutgoing; set => _security.EncryptOutgoing = value; }

    /// <summary>True when this node seals what it sends.</summary>
    public bool Encrypted => _security.Encrypted;

    /// <summary>The byte budget of a plain packet: the option minus the envelope's overhead when encrypting.</summary>
    internal int PlainPacketBudget => _options.PacketBudgetBytes - _security.OverheadBytes;

    private void HostOpenStream(long streamId, NodeAddress to, ReadOnlySpan<byte> request, int keyIndex = 0) =>
        _host.OpenStream(streamId, to, _security.SealStream(request, keyIndex));

    private void HostReplyStream(long streamId, ReadOnlySpan<byte> response) =>
        _host.ReplyStream(streamId, _security.SealReply(response));
}
