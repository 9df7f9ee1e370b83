using System.Diagnostics.Metrics;

namespace Rumor.Hosting;

/// <summary>
/// The <see cref="Meter"/> named <see cref="MeterName"/>: observable instruments read the node's
/// latest <see cref="RumorSample"/>, taken on the loop when a collection finds it older than
/// SampleInterval (one sample serves every instrument of one collection; a Prometheus scrape takes
/// its own first). Nothing samples on a timer: an idle node nobody reads is never woken for
/// metrics. A histogram records each probe round trip as a sample finds it (the probe history
/// keeps ProbeHistoryMax probes per member, dropping those ProbeHistoryWindow behind the newest beyond
/// the newest (and the one before it after a failure), so collections at least every ProbeHistoryWindow and every ProbeHistoryMax × N
/// probe intervals miss none). Round trips found while nothing listens to the histogram (an agent
/// builds its exporter at the first scrape, docs/CONFIGURATION.md "Metrics") are kept, at most
/// <see cref="PendingRoundTripsMax"/> (the newest), and recorded by <see cref="RecordPendingRoundTrips"/>
/// or with the next round trip once a listener is on, so a histogram built late still counts them.
/// Created through <see cref="IMeterFactory"/>, so each host (and each test host) has its own meter
/// instance, told apart by <see cref="Meter.Scope"/>.
/// </summary>
public sealed class RumorMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Rumor";

    /// <summary>Round trips kept while no listener is on the histogram: about an hour of probes at the LAN preset's 1 s interval, 32 KiB at most.</summary>
    public const int PendingRoundTripsMax = 4096;

    private readonly RumorNode _node;
    private readonly Histogram<double> _probeRoundTrip;
    private readonly Queue<double> _pendingRoundTrips = new();

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public RumorMetrics(IMeterFactory meterFactory, RumorNode node)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _node = node;
        Meter = meterFactory.Create(new MeterOptions(MeterName) { Version = typeof(RumorMetrics).Assembly.GetName().Version?.ToString() });
        Meter.CreateObservableGauge("rumor.members", ObserveMembers, "{member}", "Members in this node's view, by state (alive, suspect, dead, left).");
        Counter("rumor.packets.sent", "{packet}", "Datagrams sent.", s => s.Counters.PacketsSent);
        Counter("rumor.packets.received", "{packet}", "Datagrams received.", s => s.Counters.PacketsReceived);
        Counter("rumor.bytes.sent", "By", "Bytes sent in datagrams and streams.", s => s.Counters.PacketBytesSent + s.Counters.StreamBytesSent);
        Counter("rumor.bytes.received", "By", "Bytes received in datagrams and streams.", s => s.Counters.PacketBytesReceived + s.Counters.StreamBytesReceived);
        Counter("rumor.probes", "{probe}", "Probes started.", s => s.Counters.ProbesSent);
        Counter("rumor.probes.failed", "{probe}", "Probes that got no ack, direct or indirect.", s => s.Counters.ProbesFailed);
        Counter("rumor.suspicions", "{suspicion}", "Suspicions this node raised or accepted.", s => s.Counters.SuspicionsRaised);
        Counter("rumor.refutations", "{refutation}", "Times this node refuted a suspicion about itself.", s => s.Counters.Refutations);
        Counter("rumor.view.syncs", "{sync}", "Push-pulls this node opened because two acks in a row carried the same membership checksum, different from its own unchanged one (ViewChecksumInAcks).", s => s.Counters.ViewSyncs);
        Meter.CreateObservableCounter("rumor.drops", ObserveDrops, "{item}", "Items dropped at a bound, by reason.");
        Gauge("rumor.convergence", "1", "1 when every alive member holds the same replicated state as this node, else 0.", s => s.Convergence.Converged ? 1 : 0);
        Gauge("rumor.broadcast.queue.depth", "{broadcast}", "Broadcasts waiting to be piggybacked.", s => s.PendingBroadcasts);
        Gauge("rumor.local.health", "1", "Lifeguard local health score (0 is healthy).", s => s.LocalHealthScore);
        Gauge("rumor.incarnation", "1", "This node's incarnation number.", s => s.Incarnation);
        Gauge("rumor.kv.keys", "{key}", "Live replicated keys held (every owner).", s => s.KeyCount);
        _probeRoundTrip = Meter.CreateHistogram<double>(
            "rumor.probe.rtt",
            "ms",
            "Round-trip time of successful probes.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] });
        node.ProbeRoundTripObserved += RecordRoundTrip;
    }

    /// <summary>The meter (its <see cref="Meter.Scope"/> is the factory that created it).</summary>
    public Meter Meter { get; }

    /// <summary>
    /// Records the round trips kept while nothing listened to the histogram, now that something
    /// does (a no-op while nothing does). Called by whoever starts listening late (the agent's
    /// exporter, built at the first scrape), before its first collection.
    /// </summary>
    public void RecordPendingRoundTrips()
    {
        lock (_pendingRoundTrips)
        {
            if (!_probeRoundTrip.Enabled)
            {
                return;
            }

            while (_pendingRoundTrips.TryDequeue(out double ms))
            {
                _probeRoundTrip.Record(ms);
            }
        }
    }

    /// <summary>
    /// One round trip: recorded when a listener is on, else kept. The check and the keeping are
    /// under the lock <see cref="RecordPendingRoundTrips"/> takes, so a round trip kept just as a
    /// listener starts is recorded by one or the other, never left behind.
    /// </summary>
    private void RecordRoundTrip(double ms)
    {
        lock (_pendingRoundTrips)
        {
            if (!_probeRoundTrip.Enabled)
            {
                _pendingRoundTrips.Enqueue(ms);
                if (_pendingRoundTrips.Count > PendingRoundTripsMax)
                {
                    _pendingRoundTrips.Dequeue();
                }

                return;
            }

            while (_pendingRoundTrips.TryDequeue(out double pending))
            {
                _probeRoundTrip.Record(pending);
            }

            _probeRoundTrip.Record(ms);
        }
    }

    private void Counter(string name, string unit, string description, Func<RumorSample, long> read) =>
        Meter.CreateObservableCounter(name, () => Sample() is { } s ? [new Measurement<long>(read(s))] : Array.Empty<Measurement<long>>(), unit, description);

    private void Gauge(string name, string unit, string description, Func<RumorSample, long> read) =>
        Meter.CreateObservableGauge(name, () => Sample() is { } s ? [new Measurement<long>(read(s))] : Array.Empty<Measurement<long>>(), unit, description);

    private IEnumerable<Measurement<long>> ObserveMembers()
    {
        if (Sample() is not { } s)
        {
            return [];
        }

        return
        [
            new Measurement<long>(s.Alive, new KeyValuePair<string, object?>("state", "alive")),
            new Measurement<long>(s.Suspect, new KeyValuePair<string, object?>("state", "suspect")),
            new Measurement<long>(s.Dead, new KeyValuePair<string, object?>("state", "dead")),
            new Measurement<long>(s.Left, new KeyValuePair<string, object?>("state", "left")),
        ];
    }

    private IEnumerable<Measurement<long>> ObserveDrops()
    {
        if (Sample() is not { } s)
        {
            return [];
        }

        Transport.TransportCounters t = _node.Transport.Counters;
        return
        [
            Drop("broadcast_queue", s.Counters.BroadcastsDropped),
            Drop("relay", s.Counters.RelaysDropped),
            Drop("member_table", s.Counters.MembersDropped),
            Drop("decode", s.Counters.DecodeFailures),
            Drop("unauthenticated", s.Counters.PacketsUnauthenticated),
            Drop("plaintext", s.Counters.PlaintextRefused),
            Drop("replay", s.Counters.ReplaysRefused),
            Drop("out_of_bounds", s.Counters.OutOfBoundsRefused),
            Drop("reflection", s.Counters.ReflectionsRefused),
            Drop("inbox", t.DatagramsDropped),
            Drop("send_error", t.SendErrors),
            Drop("stream_refused", t.StreamsRefused),
            Drop("event_queue", t.EventsDropped + _node.EventsDropped),
        ];
    }

    /// <summary>The latest sample when younger than SampleInterval, else a fresh one (bounded wait; the latest one if the loop does not answer in time).</summary>
    private RumorSample? Sample() => _node.FreshSample();

    private static Measurement<long> Drop(string reason, long value) => new(value, new KeyValuePair<string, object?>("reason", reason));

    /// <inheritdoc />
    public void Dispose()
    {
        _node.ProbeRoundTripObserved -= RecordRoundTrip;
        Meter.Dispose();
    }
}
