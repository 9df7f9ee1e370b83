using Rumor.Core;
using Rumor.Core.Membership;
using Rumor.Transport;

namespace Rumor.Hosting;

/// <summary>Seeds given as DNS names (<see cref="DnsSeed"/>): resolved at the first join and again whenever the node has to rejoin.</summary>
public sealed partial class RumorNode
{
    /// <summary>How often DNS seeds are re-resolved while this node knows no other live member.</summary>
    public static readonly TimeSpan DnsRejoinAloneInterval = TimeSpan.FromSeconds(2);

    /// <summary>How often DNS seeds are re-resolved otherwise, to join addresses that belong to no live member (another island after a mass restart, a member that came back).</summary>
    public static readonly TimeSpan DnsRejoinInterval = TimeSpan.FromSeconds(30);

    /// <summary>Most addresses one rejoin contacts.</summary>
    public const int DnsRejoinMaxAddresses = 16;

    private CancellationTokenSource? _dnsRejoinStop;
    private Task? _dnsRejoin;

    /// <summary>
    /// The first join through the static seeds and every address the DNS seeds resolve to. When
    /// there are only DNS seeds and nobody behind them answered (or the name has no other address
    /// yet), this node may be the first member: it starts alone (a successful first join with no
    /// one to contact) and keeps re-resolving every <see cref="DnsRejoinAloneInterval"/>.
    /// </summary>
    private async Task<JoinResult> FirstJoinWithDnsSeedsAsync(GossipTransport transport, CancellationToken cancellationToken)
    {
        IReadOnlyList<DnsSeed> dnsSeeds = _resolved?.DnsSeeds ?? [];
        if (dnsSeeds.Count == 0)
        {
            return await TracedJoinAsync(transport, transport.Options.Seeds, cancellationToken).ConfigureAwait(false);
        }

        IReadOnlyList<NodeAddress> resolved = await ResolveDnsSeedsAsync(transport, dnsSeeds, cancellationToken).ConfigureAwait(false);
        JoinResult result = await TracedJoinAsync(transport, [.. transport.Options.Seeds, .. resolved], cancellationToken).ConfigureAwait(false);
        StartDnsRejoin(transport, dnsSeeds);
        if (result.Joined || transport.Options.Seeds.Count > 0)
        {
            return result;
        }

        RumorLog.DnsSeedsAlone(_logger, string.Join(", ", dnsSeeds), result.Failed.Count, DnsRejoinAloneInterval.TotalMilliseconds);
        return new JoinResult([], []);
    }

    private static async Task<IReadOnlyList<NodeAddress>> ResolveDnsSeedsAsync(GossipTransport transport, IReadOnlyList<DnsSeed> dnsSeeds, CancellationToken cancellationToken)
    {
        List<NodeAddress> all = [];
        foreach (DnsSeed seed in dnsSeeds)
        {
            all.AddRange(await seed.ResolveAsync(transport.Address.ToIPAddress().AddressFamily, cancellationToken: cancellationToken).ConfigureAwait(false));
        }

        return [.. all.Distinct().Where(address => address != transport.Address)];
    }

    private void StartDnsRejoin(GossipTransport transport, IReadOnlyList<DnsSeed> dnsSeeds)
    {
        CancellationTokenSource stop = new();
        _dnsRejoinStop = stop;
        _dnsRejoin = Task.Run(() => DnsRejoinLoopAsync(transport, dnsSeeds, stop.Token), CancellationToken.None);
    }

    private async Task StopDnsRejoinAsync()
    {
        if (_dnsRejoinStop is { } stop)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            if (_dnsRejoin is { } loop)
            {
                await Task.WhenAny(loop, Task.Delay(TimeSpan.FromSeconds(5), TimeProvider.System)).ConfigureAwait(false);
            }

            stop.Dispose();
            _dnsRejoinStop = null;
        }
    }

    /// <summary>
    /// Re-resolves the DNS seeds (every <see cref="DnsRejoinAloneInterval"/> while alone, else every
    /// <see cref="DnsRejoinInterval"/>) and joins through the addresses that belong to no member
    /// this node sees alive or suspect: alone, that is every address; otherwise only the others
    /// (members it holds dead that came back, another island).
    /// </summary>
    private async Task DnsRejoinLoopAsync(GossipTransport transport, IReadOnlyList<DnsSeed> dnsSeeds, CancellationToken stop)
    {
        TimeSpan wait = DnsRejoinAloneInterval;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, _time, stop).ConfigureAwait(false);
                IReadOnlyList<RumorMember> members = await GetMembersAsync(stop).ConfigureAwait(false);
                HashSet<NodeAddress> live = [.. members.Where(m => !m.IsLocal && m.State is MemberState.Alive or MemberState.Suspect).Select(m => m.Address)];
                wait = live.Count == 0 ? DnsRejoinAloneInterval : DnsRejoinInterval;
                IReadOnlyList<NodeAddress> resolved = await ResolveDnsSeedsAsync(transport, dnsSeeds, stop).ConfigureAwait(false);
                List<NodeAddress> targets = [.. resolved.Where(address => !live.Contains(address)).Take(DnsRejoinMaxAddresses)];
                if (targets.Count > 0)
                {
                    JoinResult result = await TracedJoinAsync(transport, targets, stop).ConfigureAwait(false);
                    RumorLog.DnsRejoin(_logger, result.Succeeded.Count, targets.Count);
                    if (result.Succeeded.Count > 0)
                    {
                        wait = DnsRejoinInterval;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is ObjectDisposedException or RumorNodeNotRunningException or InvalidOperationException)
            {
                // Stopped under us, or the loop refused the work: stop rejoining.
                return;
            }
        }
    }
}
