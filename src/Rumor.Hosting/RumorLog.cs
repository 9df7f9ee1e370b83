using Microsoft.Extensions.Logging;
using Rumor.Core;

namespace Rumor.Hosting;

/// <summary>
/// Every log line the hosting layer writes, with stable event ids (1000-1099) so that alerts and
/// log queries can match on the id rather than on the wording.
/// </summary>
public static partial class RumorLog
{
    /// <summary>Event ids, stable across versions.</summary>
    public static class Ids
    {
        /// <summary>The node bound its sockets and runs.</summary>
        public const int Started = 1000;

        /// <summary>A member joined (or came back).</summary>
        public const int MemberJoined = 1001;

        /// <summary>A member is suspected.</summary>
        public const int MemberSuspect = 1002;

        /// <summary>A member was declared dead.</summary>
        public const int MemberDead = 1003;

        /// <summary>A member left gracefully.</summary>
        public const int MemberLeft = 1004;

        /// <summary>A suspect member refuted the suspicion.</summary>
        public const int MemberRecovered = 1005;

        /// <summary>A member changed its address or tags.</summary>
        public const int MemberUpdated = 1006;

        /// <summary>A dead or left member was forgotten.</summary>
        public const int MemberReaped = 1007;

        /// <summary>A join through a seed succeeded.</summary>
        public const int JoinSucceeded = 1010;

        /// <summary>A join through a seed failed.</summary>
        public const int JoinFailed = 1011;

        /// <summary>No seed answered the first join.</summary>
        public const int JoinAbandoned = 1012;

        /// <summary>No seed answered yet; the join is retried after a wait (RetryJoinMax).</summary>
        public const int JoinRetrying = 1015;

        /// <summary>No seed answered the join sent while the process was starting; it is sent once more now that the host has started.</summary>
        public const int JoinAgainAfterStart = 1033;

        /// <summary>DNS seeds resolved to nobody who answered: the node starts alone and keeps re-resolving.</summary>
        public const int DnsSeedsAlone = 1013;

        /// <summary>A rejoin through re-resolved DNS seeds.</summary>
        public const int DnsRejoin = 1014;

        /// <summary>Two processes claim one name.</summary>
        public const int NameConflict = 1020;

        /// <summary>This process stalled.</summary>
        public const int LocalStall = 1021;

        /// <summary>Leaving the cluster.</summary>
        public const int Leaving = 1030;

        /// <summary>The leave was confirmed, or not within the timeout.</summary>
        public const int Left = 1031;

        /// <summary>The node stopped.</summary>
        public const int Stopped = 1032;
    }

    [LoggerMessage(EventId = Ids.Started, Level = LogLevel.Information, Message = "Rumor node {Name} running at {Address} (preset {Preset})")]
    internal static partial void Started(ILogger logger, string name, NodeAddress address, string preset);

    [LoggerMessage(EventId = Ids.MemberJoined, Level = LogLevel.Information, Message = "Member {Member} joined at {Address}")]
    internal static partial void MemberJoined(ILogger logger, string member, NodeAddress address);

    [LoggerMessage(EventId = Ids.MemberSuspect, Level = LogLevel.Warning, Message = "Member {Member} at {Address} is suspect")]
    internal static partial void MemberSuspect(ILogger logger, string member, NodeAddress address);

    [LoggerMessage(EventId = Ids.MemberDead, Level = LogLevel.Warning, Message = "Member {Member} at {Address} failed (declared dead)")]
    internal static partial void MemberDead(ILogger logger, string member, NodeAddress address);

    [LoggerMessage(EventId = Ids.MemberLeft, Level = LogLevel.Information, Message = "Member {Member} at {Address} left")]
    internal static partial void MemberLeft(ILogger logger, string member, NodeAddress address);

    [LoggerMessage(EventId = Ids.MemberRecovered, Level = LogLevel.Information, Message = "Member {Member} refuted the suspicion (incarnation {Incarnation})")]
    internal static partial void MemberRecovered(ILogger logger, string member, uint incarnation);

    [LoggerMessage(EventId = Ids.MemberUpdated, Level = LogLevel.Debug, Message = "Member {Member} updated its address or tags ({Address})")]
    internal static partial void MemberUpdated(ILogger logger, string member, NodeAddress address);

    [LoggerMessage(EventId = Ids.MemberReaped, Level = LogLevel.Debug, Message = "Member {Member} forgotten after the retention time")]
    internal static partial void MemberReaped(ILogger logger, string member);

    [LoggerMessage(EventId = Ids.JoinSucceeded, Level = LogLevel.Information, Message = "Joined through {Seed}: learned {Members} member(s)")]
    internal static partial void JoinSucceeded(ILogger logger, NodeAddress seed, int members);

    [LoggerMessage(EventId = Ids.JoinFailed, Level = LogLevel.Warning, Message = "Could not join through {Seed}: {Reason}")]
    internal static partial void JoinFailed(ILogger logger, NodeAddress seed, string reason);

    [LoggerMessage(EventId = Ids.JoinAbandoned, Level = LogLevel.Error, Message = "No seed answered ({Tried} tried)")]
    internal static partial void JoinAbandoned(ILogger logger, int tried);

    [LoggerMessage(EventId = Ids.JoinRetrying, Level = LogLevel.Warning, Message = "No seed answered ({Tried} tried); join attempt {Attempt} of {Attempts} in {WaitMs} ms")]
    internal static partial void JoinRetrying(ILogger logger, int tried, int attempt, int attempts, double waitMs);

    [LoggerMessage(EventId = Ids.JoinAgainAfterStart, Level = LogLevel.Information, Message = "No seed answered the join sent during start-up ({Tried} tried); sending it again now that the agent has started")]
    internal static partial void JoinAgainAfterStart(ILogger logger, int tried);

    [LoggerMessage(EventId = Ids.DnsSeedsAlone, Level = LogLevel.Warning, Message = "No member answered through the DNS seeds {Seeds} ({Tried} address(es) tried); starting alone, re-resolving every {IntervalMs} ms")]
    internal static partial void DnsSeedsAlone(ILogger logger, string seeds, int tried, double intervalMs);

    [LoggerMessage(EventId = Ids.DnsRejoin, Level = LogLevel.Information, Message = "Rejoin through the DNS seeds: {Succeeded} of {Tried} address(es) answered")]
    internal static partial void DnsRejoin(ILogger logger, int succeeded, int tried);

    [LoggerMessage(EventId = Ids.NameConflict, Level = LogLevel.Error, Message = "Name conflict: {Name} is claimed at {Known} and at {Other}")]
    internal static partial void NameConflict(ILogger logger, string name, NodeAddress known, NodeAddress other);

    [LoggerMessage(EventId = Ids.LocalStall, Level = LogLevel.Warning, Message = "This process stalled for {StallMs} ms ({Cause}); accusations are held back")]
    internal static partial void LocalStall(ILogger logger, double stallMs, string cause);

    [LoggerMessage(EventId = Ids.Leaving, Level = LogLevel.Information, Message = "Leaving the cluster (waiting at most {TimeoutMs} ms)")]
    internal static partial void Leaving(ILogger logger, double timeoutMs);

    [LoggerMessage(EventId = Ids.Left, Level = LogLevel.Information, Message = "Leave confirmed: {Confirmed}")]
    internal static partial void Left(ILogger logger, bool confirmed);

    [LoggerMessage(EventId = Ids.Stopped, Level = LogLevel.Information, Message = "Rumor node {Name} stopped")]
    internal static partial void Stopped(ILogger logger, string name);

    /// <summary>Logs one node event at its level with its stable id.</summary>
    internal static void Event(ILogger logger, GossipEvent gossipEvent)
    {
        switch (gossipEvent)
        {
            case MemberChanged { Kind: MemberChangeKind.Joined } e:
                MemberJoined(logger, e.Member.Name, e.Member.Address);
                break;
            case MemberChanged { Kind: MemberChangeKind.Suspected } e:
                MemberSuspect(logger, e.Member.Name, e.Member.Address);
                break;
            case MemberChanged { Kind: MemberChangeKind.Failed } e:
                MemberDead(logger, e.Member.Name, e.Member.Address);
                break;
            case MemberChanged { Kind: MemberChangeKind.Left } e:
                MemberLeft(logger, e.Member.Name, e.Member.Address);
                break;
            case MemberChanged { Kind: MemberChangeKind.Recovered } e:
                MemberRecovered(logger, e.Member.Name, e.Member.Incarnation);
                break;
            case MemberChanged { Kind: MemberChangeKind.Updated } e:
                MemberUpdated(logger, e.Member.Name, e.Member.Address);
                break;
            case MemberChanged { Kind: MemberChangeKind.Reaped } e:
                MemberReaped(logger, e.Member.Name);
                break;
            case JoinSucceeded e:
                JoinSucceeded(logger, e.Seed, e.MembersLearned);
                break;
            case JoinFailed e:
                JoinFailed(logger, e.Seed, e.Reason);
                break;
            case NameConflict e:
                NameConflict(logger, e.Name, e.Known, e.Other);
                break;
            case LocalStallDetected e:
                LocalStall(logger, e.Stall.TotalMilliseconds, e.Cause);
                break;
            default:
                break;
        }
    }
}
