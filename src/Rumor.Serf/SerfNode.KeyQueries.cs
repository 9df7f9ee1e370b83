using System.Text;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

// Serf's key queries (serf/internal_query.go): _serf_install-key, _serf_use-key and
// _serf_remove-key change this node's keyring (memberlist's rules: installing a present key is a
// no-op, the primary cannot be removed, only an installed key can become primary);
// _serf_list-keys lists it. Each answers [8]{Keys, Message, PrimaryKey, Result}, so `serf keys`
// counts this node. Without a keyring every one answers Result=false with Serf's message.
public sealed partial class SerfNode
{
    private const string InstallKeyQuery = "_serf_install-key";
    private const string UseKeyQuery = "_serf_use-key";
    private const string RemoveKeyQuery = "_serf_remove-key";
    private const string ListKeysQuery = "_serf_list-keys";
    private const string ConflictQuery = "_serf_conflict";

    // Serf's minEncodedKeyLength: a list response drops keys until it fits QueryResponseSizeLimit.
    private const int MinEncodedKeyLength = 25;

    /// <summary>True when the node encrypts (it has a keyring, which key queries can change).</summary>
    public bool IsEncrypted => _options.Keyring is not null;

    /// <summary>The query name and payload of a key operation: <c>list</c>, <c>install</c>, <c>use</c> or <c>remove</c> (Serf's KeyManager sends these).</summary>
    public static (string Name, byte[] Payload) KeyQuery(string operation, byte[]? key) => operation switch
    {
        "list" => (ListKeysQuery, []),
        "install" => (InstallKeyQuery, new KeyRequestMessage(key).Encode()),
        "use" => (UseKeyQuery, new KeyRequestMessage(key).Encode()),
        "remove" => (RemoveKeyQuery, new KeyRequestMessage(key).Encode()),
        _ => throw new ArgumentException($"unknown key operation '{operation}'", nameof(operation)),
    };

    private byte[]? AnswerInternalQuery(QueryMessage query)
    {
        SerfKeyring? keyring = _options.Keyring;
        switch (query.Name)
        {
            case InstallKeyQuery or UseKeyQuery or RemoveKeyQuery:
                if (!KeyRequestMessage.TryDecode(query.Payload ?? [], out KeyRequestMessage request) || request.Key is null)
                {
                    return new KeyResponseMessage(false, "", [], "").Encode();
                }

                if (keyring is null)
                {
                    return new KeyResponseMessage(false, "No keyring to modify (encryption not enabled)", [], "").Encode();
                }

                try
                {
                    switch (query.Name)
                    {
                        case InstallKeyQuery:
                            keyring.AddKey(request.Key);
                            break;
                        case UseKeyQuery:
                            keyring.UseKey(request.Key);
                            break;
                        default:
                            keyring.RemoveKey(request.Key);
                            break;
                    }
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    return new KeyResponseMessage(false, e.Message, [], "").Encode();
                }

                Counters.KeyringChanges++;
                return WriteKeyringFile(keyring) is { } failure
                    ? new KeyResponseMessage(false, failure, [], "").Encode()
                    : new KeyResponseMessage(true, "", [], "").Encode();
            case ListKeysQuery:
                if (keyring is null)
                {
                    return new KeyResponseMessage(false, "Keyring is empty (encryption not enabled)", [], "").Encode();
                }

                IReadOnlyList<byte[]> keys = keyring.Keys;
                List<string> listed = [.. keys.Select(Convert.ToBase64String)];
                string primary = listed[0];
                string message = "";
                int total = listed.Count;
                listed = [.. listed.Take(QueryResponseSizeLimit / MinEncodedKeyLength)];
                while (true)
                {
                    byte[] answer = new KeyResponseMessage(true, message, listed, primary).Encode();
                    if (new QueryResponseMessage(query.LTime, query.Id, _self.Name, 0, answer).Encode().Length - 2 <= QueryResponseSizeLimit || listed.Count == 0)
                    {
                        return answer;
                    }

                    listed.RemoveAt(listed.Count - 1);
                    message = $"truncated key list response, showing first {listed.Count} of {total} keys";
                }

            case ConflictQuery:
                return AnswerConflict(query.Payload is { } name ? Encoding.UTF8.GetString(name) : "");
            default:
                return null;
        }
    }

    // Serf's writeKeyringFile: the whole ring, primary first, as indented JSON, mode 0600. Null when
    // written (or no file is configured), else the error for the key response's message.
    private string? WriteKeyringFile(SerfKeyring keyring)
    {
        if (string.IsNullOrEmpty(_options.KeyringFile))
        {
            return null;
        }

        StringBuilder json = new("[");
        IReadOnlyList<byte[]> keys = keyring.Keys;
        for (int i = 0; i < keys.Count; i++)
        {
            json.Append(i == 0 ? "\n  \"" : ",\n  \"").Append(Convert.ToBase64String(keys[i])).Append('"');
        }

        json.Append(keys.Count == 0 ? "]" : "\n]");
        try
        {
            string temporary = _options.KeyringFile + ".tmp";
            File.WriteAllText(temporary, json.ToString());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.Move(temporary, _options.KeyringFile, overwrite: true);
            Counters.KeyringFileWrites++;
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"Failed to write keyring file: {e.Message}";
        }
    }

    // Serf's handleConflict: the payload names a member; answer with this node's view of it
    // ([6] + Serf's Member, nil when unknown), or not at all when the query is about this node.
    private byte[]? AnswerConflict(string name)
    {
        if (name == _self.Name)
        {
            return null;
        }

        Counters.ConflictQueriesAnswered++;
        return _peers.TryGetValue(name, out Peer? peer)
            ? ConflictResponseMessage.Encode(peer.Name, peer.Address, peer.Port, peer.Tags, SerfStatusNumber(peer.Status), peer.Vsn)
            : ConflictResponseMessage.Encode(null, null, 0, null, 0, []);
    }

    private static int SerfStatusNumber(SerfMemberStatus status) => status switch
    {
        SerfMemberStatus.Alive => 1,
        SerfMemberStatus.Leaving => 2,
        SerfMemberStatus.Left => 3,
        _ => 4,
    };
}
