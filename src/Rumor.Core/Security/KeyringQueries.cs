using System.Buffers.Binary;
using System.Text;
using Rumor.Core.Events;

namespace Rumor.Core.Security;

/// <summary>
/// The internal queries behind <c>rumor keys</c> (Serf's <c>_serf_install-key</c> and friends): the
/// asker sends one query to every member, each member changes its own keyring and answers, and the
/// asker reports each answer and names who did not answer. Queries travel sealed like everything
/// else, so the keys they carry are never on the wire in plaintext; a member refuses them unless it
/// refuses plaintext itself (<see cref="GossipNode.VerifyIncoming"/>), so that nobody without the
/// key can change or read a ring during a migration from plaintext.
/// <code>
/// request  (install, use, remove) = ring version u64 LE | key (16, 24 or 32 bytes)
/// request  (list)                 = empty
/// answer   = 0 | (list only) ring version u64 LE | count u8 | count × (length u8 | key)  primary first
///          | 1 | UTF-8 reason
/// </code>
/// </summary>
public static class KeyringQueries
{
    /// <summary>The query that lists each member's keys.</summary>
    public const string List = "_rumor_keys_list";

    /// <summary>The query that installs a key everywhere.</summary>
    public const string Install = "_rumor_keys_install";

    /// <summary>The query that makes a key primary everywhere.</summary>
    public const string Use = "_rumor_keys_use";

    /// <summary>The query that removes a key everywhere.</summary>
    public const string Remove = "_rumor_keys_remove";

    /// <summary>The query name of <paramref name="operation"/>.</summary>
    public static string NameOf(KeyOperation operation) => operation switch
    {
        KeyOperation.Install => Install,
        KeyOperation.Use => Use,
        KeyOperation.Remove => Remove,
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    /// <summary>The payload of an install, use or remove query.</summary>
    public static byte[] EncodeRequest(ulong ringVersion, byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] payload = new byte[8 + key.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, ringVersion);
        key.CopyTo(payload, 8);
        return payload;
    }

    /// <summary>
    /// This member's answer to a key query, applied to <paramref name="node"/>'s keyring on its loop;
    /// null when <paramref name="request"/> is not a key query (another responder may answer it).
    /// </summary>
    public static byte[]? TryAnswer(GossipNode node, QueryRequest request)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Name is not (Install or Use or Remove or List))
        {
            return null;
        }

        KeyOperation? operation = request.Name switch
        {
            Install => KeyOperation.Install,
            Use => KeyOperation.Use,
            Remove => KeyOperation.Remove,
            _ => null,
        };

        if (node.Keyring is not { } ring)
        {
            return Error("gossip encryption is off on this member (no keyring)");
        }

        if (!node.VerifyIncoming || !node.EncryptOutgoing)
        {
            return Error("this member still accepts or sends plaintext (migration mode); key operations need encryption fully on");
        }

        if (operation is null)
        {
            byte[] data = KeyringSection.Encode(ring).Data;
            byte[] listed = new byte[1 + data.Length];
            data.CopyTo(listed, 1);
            return listed;
        }

        if (request.Payload.Length is not (8 + 16 or 8 + 24 or 8 + 32))
        {
            return Error($"a key query carries a version and a key of 16, 24 or 32 bytes; this one has {request.Payload.Length} bytes");
        }

        ulong version = BinaryPrimitives.ReadUInt64LittleEndian(request.Payload);
        string? refused = node.ApplyKeyOperation(operation.Value, request.Payload[8..], version);
        return refused is null ? [0] : Error(refused);
    }

    /// <summary>Reads one member's answer: an error, or success with (for a list) its ring.</summary>
    public static KeyAnswer DecodeAnswer(byte[] answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (answer.Length == 0 || answer[0] > 1)
        {
            return new KeyAnswer(false, "the answer is not a key answer", 0, []);
        }

        if (answer[0] == 1)
        {
            return new KeyAnswer(false, Encoding.UTF8.GetString(answer, 1, answer.Length - 1), 0, []);
        }

        if (answer.Length == 1)
        {
            return new KeyAnswer(true, null, 0, []);
        }

        return KeyringSection.TryDecode(answer.AsSpan(1), out ulong version, out IReadOnlyList<byte[]> keys)
            ? new KeyAnswer(true, null, version, keys)
            : new KeyAnswer(false, "the listed ring is malformed", 0, []);
    }

    private static byte[] Error(string reason)
    {
        byte[] text = Encoding.UTF8.GetBytes(reason);
        byte[] answer = new byte[1 + text.Length];
        answer[0] = 1;
        text.CopyTo(answer, 1);
        return answer;
    }
}

/// <summary>One member's answer to a key query: success, or the reason it refused; a list answer carries its ring (primary first).</summary>
public sealed record KeyAnswer(bool Ok, string? Error, ulong RingVersion, IReadOnlyList<byte[]> Keys);
