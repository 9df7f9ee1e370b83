using System.Net;
using System.Net.Sockets;
using Rumor.Serf.Wire;

namespace Rumor.Serf;

// TCP streams (serf-wire.md 3.10, 3.11): push/pull state exchange (join and anti-entropy), the
// fallback ping, and reliable user messages. Streams carry no length prefix: the reader parses
// as bytes arrive and reads more only when a message is cut short, under a size and time bound.
public sealed partial class SerfNode
{
    /// <summary>Largest stream accepted (memberlist caps encrypted streams at 20 MiB; push/pull of 10 000 members is about 2 MiB).</summary>
    public const int StreamBytesMax = 8 << 20;

    private const int ConcurrentStreamsMax = 128;
    private int _activeStreams;

    /// <summary>
    /// Joins a cluster through <paramref name="seeds"/>: a push/pull (Join = true) with each seed,
    /// then Serf's join intent. Returns how many seeds answered; throws when none did.
    /// </summary>
    public async Task<int> JoinAsync(IEnumerable<IPEndPoint> seeds, CancellationToken cancellationToken = default)
    {
        int joined = 0;
        List<string> errors = [];
        foreach (IPEndPoint seed in seeds)
        {
            try
            {
                await PushPullAsync(seed, join: true, cancellationToken);
                joined++;
            }
            catch (Exception e) when (e is IOException or SocketException or TimeoutException or InvalidDataException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                errors.Add($"{seed}: {e.Message}");
            }
        }

        if (joined == 0)
        {
            throw new IOException("could not join any seed: " + string.Join("; ", errors));
        }

        Run(() =>
        {
            if (_leaving)
            {
                return; // the leave's dead-about-self is queued under the same key: no alive may replace it
            }

            // The own alive queued at start is re-queued so it is among the newest broadcasts and
            // rides in the first packets (the join's merge queued every member it learned after it).
            _broadcasts.Enqueue(Key(_self.Name), _self.ToRecord().EncodeAlive());
            BroadcastJoinIntent();
            RequestMemberPush();
        });
        return joined;
    }

    private byte[] LocalPushPull(bool join)
    {
        lock (_gate)
        {
            List<NodeRecord> nodes = [.. _peers.Values.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.ToRecord())];
            return new PushPullMessage(join, nodes, LocalSerfState().Encode()).Encode();
        }
    }

    // One push/pull exchange with a peer as the initiator.
    private async Task PushPullAsync(IPEndPoint to, bool join, CancellationToken cancellationToken)
    {
        using CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        deadline.CancelAfter(_options.TcpTimeout);
        try
        {
            using TcpClient client = new(to.AddressFamily);
            await client.ConnectAsync(to, deadline.Token);
            NetworkStream stream = client.GetStream();
            await stream.WriteAsync(Seal(LocalPushPull(join), compress: _options.EnableCompression), deadline.Token);
            (StreamMessage? reply, StreamWrapping wrapping) = await ReadStreamMessageAsync(stream, _options.Keyring, deadline.Token);
            if (_options.Keyring is not null && !wrapping.Encrypted && reply is not null)
            {
                Counters.DecryptFailures++;
                throw new InvalidDataException("the peer answered in plaintext while this node encrypts");
            }

            switch (reply)
            {
                case { Type: MemberlistType.PushPull, PushPull: { } remote }:
                    Run(() =>
                    {
                        MergeRemote(remote);

                        // A join pushes once, at its end (JoinAsync), with this node's own alive first.
                        _memberPushWanted &= !join;
                    });
                    return;
                case { Type: MemberlistType.Err, Error: { } error }:
                    throw new InvalidDataException("the peer answered an error: " + error);
                default:
                    Counters.BadStreams++;
                    throw new InvalidDataException("the peer's push/pull reply was malformed");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            throw new TimeoutException($"push/pull with {to} took longer than {_options.TcpTimeout}");
        }
        catch (Exception e) when (!join && e is IOException or SocketException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            // A periodic push/pull that fails is only a missed round; the next one picks another peer.
        }
    }

    // memberlist's mergeState then Serf's MergeRemoteState.
    private void MergeRemote(PushPullMessage remote)
    {
        TimeSpan now = Now;
        foreach (NodeRecord node in remote.Nodes)
        {
            switch (node.State)
            {
                case MemberlistState.Alive:
                    HandleAlive(node, now);
                    break;
                case MemberlistState.Left:
                    HandleDead(new AccusationMessage(node.Incarnation, node.Name, node.Name), now);
                    break;
                default:
                    // A remote "dead" only makes us suspect: we probe for ourselves.
                    HandleSuspect(new AccusationMessage(node.Incarnation, node.Name, _self.Name), now);
                    break;
            }
        }

        if (remote.UserState.Length > 0)
        {
            if (SerfStateMessage.TryDecode(remote.UserState, out SerfStateMessage state))
            {
                MergeSerfState(state, remote.Join);
            }
            else
            {
                Counters.BadStreams++;
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _tcp.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            if (Interlocked.Increment(ref _activeStreams) > ConcurrentStreamsMax)
            {
                Interlocked.Decrement(ref _activeStreams);
                Counters.BadStreams++;
                client.Dispose();
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await HandleStreamAsync(client);
                }
                finally
                {
                    Interlocked.Decrement(ref _activeStreams);
                    client.Dispose();
                }
            });
        }
    }

    private async Task HandleStreamAsync(TcpClient client)
    {
        using CancellationTokenSource deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(_options.TcpTimeout);
        try
        {
            NetworkStream stream = client.GetStream();
            (StreamMessage? request, StreamWrapping wrapping) = await ReadStreamMessageAsync(stream, _options.Keyring, deadline.Token);
            bool compressed = wrapping.Compressed;
            if (_options.Keyring is not null && !wrapping.Encrypted && request is not null)
            {
                // memberlist with GossipVerifyIncoming: plaintext is refused with an (encrypted) error.
                Counters.DecryptFailures++;
                await stream.WriteAsync(Seal(new ErrorMessage("Encryption is configured but remote state is not encrypted").Encode(), compress: false), deadline.Token);
                return;
            }

            switch (request)
            {
                case { Type: MemberlistType.PushPull, PushPull: { } remote }:
                    byte[] reply = LocalPushPull(remote.Join);
                    await stream.WriteAsync(Seal(reply, compressed || _options.EnableCompression), deadline.Token);
                    Run(() => MergeRemote(remote));
                    break;
                case { Type: MemberlistType.Ping, Ping: { } ping }:
                    if (ping.Node.Length == 0 || ping.Node == _self.Name)
                    {
                        byte[] ack = new AckMessage(ping.SeqNo, null).Encode();
                        await stream.WriteAsync(Seal(ack, compressed), deadline.Token);
                    }

                    break;
                case { Type: MemberlistType.User, UserMessage: { } user }:
                    Run(() =>
                    {
                        if (!HandleSerfMessage(user, Now))
                        {
                            Counters.MalformedMessages++;
                        }
                    });
                    break;
                case { Type: MemberlistType.Encrypt }:
                    Counters.DecryptFailures++;
                    await stream.WriteAsync(new ErrorMessage("encryption is not configured on this node").Encode(), deadline.Token);
                    break;
                default:
                    Counters.BadStreams++;
                    break;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Counters.BadStreams++;
        }
    }

    /// <summary>A parsed stream message.</summary>
    internal sealed record StreamMessage(MemberlistType Type, PushPullMessage? PushPull = null, PingMessage? Ping = null, byte[]? UserMessage = null, string? Error = null);

    // Reads until one whole stream message parses (or the stream ends, or the bound is hit).
    private static async Task<(StreamMessage? Message, StreamWrapping Wrapping)> ReadStreamMessageAsync(NetworkStream stream, SerfKeyring? keyring, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[16 * 1024];
        int length = 0;
        while (true)
        {
            if (length > 0)
            {
                ParseStatus status = TryParseStream(buffer.AsMemory(0, length), keyring, out StreamMessage? message, out StreamWrapping wrapping);
                if (status == ParseStatus.Complete)
                {
                    return (message, wrapping);
                }

                if (status == ParseStatus.Malformed)
                {
                    return (null, default);
                }
            }

            if (length == buffer.Length)
            {
                if (buffer.Length >= StreamBytesMax)
                {
                    return (null, default);
                }

                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, StreamBytesMax));
            }

            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                return (null, default);
            }

            length += read;
        }
    }

    /// <summary>How a stream message was wrapped.</summary>
    internal readonly record struct StreamWrapping(bool Compressed, bool Encrypted);

    // A stream message as this node sends it: compressed when asked, then encrypted when it has a keyring.
    private byte[] Seal(byte[] message, bool compress)
    {
        byte[] inner = compress ? Packet.Compress(message) : message;
        return _options.Keyring is { } keyring ? keyring.EncryptStream(inner) : inner;
    }

    /// <summary>
    /// Parses one stream message from the start of <paramref name="data"/>, unwrapping encryption
    /// (with <paramref name="keyring"/>; <c>[10][u32 length][…]</c>, AAD = the 5-byte header) and one
    /// level of compression. Never throws.
    /// </summary>
    internal static ParseStatus TryParseStream(ReadOnlyMemory<byte> data, SerfKeyring? keyring, out StreamMessage? message, out StreamWrapping wrapping)
    {
        message = null;
        wrapping = default;
        if (data.IsEmpty)
        {
            return ParseStatus.Truncated;
        }

        MemberlistType type = (MemberlistType)data.Span[0];
        ReadOnlyMemory<byte> body = data[1..];
        if (type == MemberlistType.Encrypt && keyring is not null)
        {
            if (data.Length < 5)
            {
                return ParseStatus.Truncated;
            }

            uint length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data.Span[1..5]);
            if (length > SerfKeyring.MaxStreamBytes || length < SerfKeyring.Overhead)
            {
                return ParseStatus.Malformed;
            }

            if (data.Length - 5 < length)
            {
                return ParseStatus.Truncated;
            }

            if (!keyring.TryDecrypt(data.Span.Slice(5, (int)length), data.Span[..5], out byte[] plain) || plain.Length == 0 || plain[0] == (byte)MemberlistType.Encrypt)
            {
                return ParseStatus.Malformed;
            }

            ParseStatus inner = TryParseStream(plain, null, out message, out StreamWrapping innerWrapping);
            wrapping = innerWrapping with { Encrypted = true };
            return inner == ParseStatus.Truncated ? ParseStatus.Malformed : inner;
        }

        bool compressed;
        switch (type)
        {
            case MemberlistType.Compress:
                if (!GoMsgpack.TryDecode(body, out _, out _, out bool truncated))
                {
                    return truncated ? ParseStatus.Truncated : ParseStatus.Malformed;
                }

                if (!CompressMessage.TryDecode(body, out CompressMessage compress, out _) || compress.Algo != 0
                    || !Lzw.TryDecompress(compress.Buf, StreamBytesMax, out byte[] inner) || inner.Length == 0 || inner[0] == (byte)MemberlistType.Compress)
                {
                    return ParseStatus.Malformed;
                }

                compressed = true;
                ParseStatus status = TryParseStream(inner, null, out message, out _);
                wrapping = new StreamWrapping(compressed, false);
                return status == ParseStatus.Truncated ? ParseStatus.Malformed : status;
            case MemberlistType.PushPull:
                ParseStatus pushPull = PushPullMessage.TryDecode(body, out PushPullMessage remote, out _);
                message = pushPull == ParseStatus.Complete ? new StreamMessage(type, PushPull: remote) : null;
                return pushPull;
            case MemberlistType.Ping:
                return Complete(body, type, m => new StreamMessage(type, Ping: PingMessage.TryDecode(m, out PingMessage p) ? p : null), out message);
            case MemberlistType.Err:
                return Complete(body, type, m => new StreamMessage(type, Error: ErrorMessage.TryDecode(m, out ErrorMessage e) ? e.Error : null), out message);
            case MemberlistType.User:
                if (!GoMsgpack.TryDecode(body, out object? header, out int used, out bool cut))
                {
                    return cut ? ParseStatus.Truncated : ParseStatus.Malformed;
                }

                if (header is not GoMap map || !map.Has("UserMsgLen"))
                {
                    return ParseStatus.Malformed;
                }

                long userLength;
                try
                {
                    userLength = map.Int("UserMsgLen");
                }
                catch (FormatException)
                {
                    return ParseStatus.Malformed;
                }

                if (userLength is < 0 or > StreamBytesMax)
                {
                    return ParseStatus.Malformed;
                }

                if (body.Length - used < userLength)
                {
                    return ParseStatus.Truncated;
                }

                message = new StreamMessage(type, UserMessage: body.Slice(used, (int)userLength).ToArray());
                return ParseStatus.Complete;
            case MemberlistType.Encrypt:
                message = new StreamMessage(type);
                return ParseStatus.Complete;
            default:
                return ParseStatus.Malformed;
        }
    }

    private static ParseStatus Complete(ReadOnlyMemory<byte> body, MemberlistType type, Func<ReadOnlyMemory<byte>, StreamMessage> build, out StreamMessage? message)
    {
        _ = type;
        message = null;
        if (!GoMsgpack.TryDecode(body, out _, out int used, out bool truncated))
        {
            return truncated ? ParseStatus.Truncated : ParseStatus.Malformed;
        }

        message = build(body[..used]);
        return message is { Ping: null, Error: null } ? ParseStatus.Malformed : ParseStatus.Complete;
    }
}
