using System.Text;
using Rumor.Core.Wire;
using Rumor.Core.Wire.Messages;

namespace Rumor.Core.AntiEntropy;

/// <summary>A change applied to the replicated state (a local write, a remote delta, an expiry).</summary>
internal readonly record struct AppliedChange(string Owner, string Key, byte[]? OldValue, byte[]? NewValue, ulong Version);

/// <summary>
/// Every owner's versioned map as this node holds it, and the Scuttlebutt machinery over it
/// (van Renesse et al., "Efficient Reconciliation and Flow Control for Anti-Entropy Protocols"):
/// a digest of (owner, generation, max version) per owner; deltas of everything newer than a peer's
/// digest, most out-of-date owners first, cut to a byte budget without gaps; tombstones collected
/// after a grace period, with a reset for peers older than the collection. Only the owner writes
/// its map, so merging is "higher version wins" with no conflicts. Owners are kept sorted by name,
/// so digests, deltas and checksums never depend on hash order.
/// <para>
/// Layout (a simulated cluster of N nodes holds N² owners): each owner is an
/// <see cref="OwnerState"/> row, a value type, in a table of fixed-size chunks indexed by slot
/// (slots are dense: removing an owner moves the last row into its slot), and the name order is an
/// array of slots sorted by ordinal name, found by binary search (2 bytes per owner below 65,535 owners, 4 above: <see cref="SlotOrder"/>; an owner is
/// added once per member, so the shift on insertion is rare). Chunks, not one growing array: a
/// chunk never moves, so a reference to a row stays good while owners are added, growth copies
/// nothing, no row array reaches the large-object heap, and the unused tail is at most one chunk.
/// Before, each owner was an object of its own behind an 8-byte reference in a sorted array.
/// </para>
/// </summary>
internal sealed class ReplicatedState
{
    /// <summary>Rows per chunk (a power of two): 64 rows of 16 bytes, 1 KiB.</summary>
    private const int ChunkShift = 6;

    /// <summary>How many versions below our own a Bloom digest's receiver probes for the sender's (<see cref="DeltasForBloom"/>).</summary>
    private const int BloomProbeDepth = 16;

    // Rows by slot in chunks (ChunkedRows): a row stays where it is once the first chunk is full size,
    // and growing copies no rows. A reference to a row is taken after any add (AddOwner's callers).
    private readonly ChunkedRows<OwnerState> _rows = new(ChunkShift);
    private readonly SlotOrder _order = new(); // slots in ordinal name order (2 bytes each below 65,535 owners)
    private Dictionary<string, ulong>? _gcVersions; // owner → highest tombstone version collected here, for the owners that have one
    // Kept as owners change (LeaveSums before a change to a row, EnterSums after it), so that
    // reading them costs nothing: the sum of every written owner's term (the checksum), how many
    // owners have written (the full digest's line count) and their lines' encoded length.
    private ulong _termSum;
    private int _digestCount;
    private int _digestLength;
    private readonly Wire.NameTable? _names; // shares writes between the nodes of a simulation (InternsStateEntries)

    public ReplicatedState(string localOwner, ulong generation, Wire.NameTable? names = null)
    {
        _names = names is { InternsStateEntries: true } ? names : null;
        AddOwner(~IndexOf(localOwner), new OwnerState(KeyOf(localOwner, generation))); // slot 0, never removed
    }

    /// <summary>The local owner's row (slot 0).</summary>
    public ref OwnerState Local => ref _rows[0];

    public int OwnerCount => _order.Count;

    /// <summary>Copies of every owner's row, in ordinal name order.</summary>
    public IEnumerable<OwnerState> Owners
    {
        get
        {
            for (int i = 0; i < _order.Count; i++)
            {
                yield return Row(_order[i]);
            }
        }
    }

    /// <summary>A copy of <paramref name="owner"/>'s row (for reading), or null when the owner is unknown.</summary>
    public OwnerState? Find(string owner)
    {
        int index = IndexOf(owner);
        return index >= 0 ? Row(_order[index]) : null;
    }

    /// <summary>The highest tombstone version of <paramref name="owner"/> this node has collected (0 when none): a peer below it must be reset.</summary>
    public ulong GcVersionOf(string owner) => _gcVersions is not null && _gcVersions.TryGetValue(owner, out ulong version) ? version : 0;

    /// <summary>
    /// The checksum of the digest: FNV-1a 64's offset basis plus, for every owner that has written,
    /// <see cref="TermOf"/> its (name, generation, max version). Equal digests (hence, without gaps,
    /// equal states) give equal checksums. A sum, not a fold over the owners in name order (as until
    /// session 38): it is kept as owners change, one term out and one in, where the fold was redone
    /// over all N owners at its first read after each apply (5.6 % of the keys' spread at N = 2,000).
    /// An empty state's checksum is the offset basis, as before.
    /// </summary>
    public ulong Checksum => StableHash.FnvOffsetBasis + _termSum;

    /// <summary>
    /// One owner's part of <see cref="Checksum"/>: FNV-1a 64 over its name's UTF-16 code units, then
    /// SplitMix64's finalizer after folding in the generation and again after the max version (as
    /// the membership checksum's member hash does), so that every input bit reaches every output bit
    /// and the terms of owners that differ in one field do not cancel in the sum.
    /// </summary>
    internal static ulong TermOf(string owner, ulong generation, ulong maxVersion)
    {
        ulong h = StableHash.Fnv1a(owner);
        h = StableHash.Mix(h ^ generation);
        return StableHash.Mix(h ^ maxVersion);
    }

    /// <summary>Takes <paramref name="owner"/>'s row out of the checksum, the line count and the length (before it changes or goes).</summary>
    private void LeaveSums(in OwnerState owner)
    {
        if (owner.MaxVersion != 0) // an owner that never wrote is the same as an unknown one
        {
            _termSum -= TermOf(owner.Owner, owner.Generation, owner.MaxVersion);
            _digestCount--;
            _digestLength -= StateDigestMessage.EntryLength(owner.Owner);
        }
    }

    /// <summary>Puts <paramref name="owner"/>'s row (back) into the checksum, the line count and the length (after it changed or came).</summary>
    private void EnterSums(in OwnerState owner)
    {
        if (owner.MaxVersion != 0)
        {
            _termSum += TermOf(owner.Owner, owner.Generation, owner.MaxVersion);
            _digestCount++;
            _digestLength += StateDigestMessage.EntryLength(owner.Owner);
        }
    }

    /// <summary>Writes a value (or a tombstone, when <paramref name="value"/> is null) as the local owner's next version.</summary>
    public AppliedChange WriteLocal(string key, byte[]? value, uint ttlMilliseconds, TimeSpan now)
    {
        bool had = Local.TryFind(key, out StoredEntry old);
        ulong version = Local.MaxVersion + 1;
        StoredEntry entry = new(key, version, value is null, value is null ? 0 : ttlMilliseconds, value ?? [], now);
        LeaveSums(Local);
        Local.TryPut(entry, out _, _names, version);
        Local.MaxVersion = version;
        EnterSums(Local);
        return new AppliedChange(Local.Owner, key, had && !old.IsTombstone ? old.Value : null, value, version);
    }

    /// <summary>The full digest, owners in name order; owners that never wrote are left out (nothing to ask for).</summary>
    public DigestEntry[] Digest()
    {
        // Counted first, so the one array is the digest (a list copied to an array made two of N
        // entries, for every digest a node sends while keys spread).
        DigestEntry[] digest = new DigestEntry[DigestCount()];
        FillDigest(digest);
        return digest;
    }

    /// <summary>
    /// As <see cref="Digest"/>, into an array rented from the shared pool: its first
    /// <paramref name="count"/> entries are the digest. Give it back with
    /// <c>ArrayPool&lt;DigestEntry&gt;.Shared.Return(array, clearArray: true)</c> once it is encoded
    /// (a stream's full digest: N entries for every exchange while keys spread).
    /// </summary>
    internal DigestEntry[] RentDigest(out int count)
    {
        count = DigestCount();
        DigestEntry[] digest = System.Buffers.ArrayPool<DigestEntry>.Shared.Rent(count);
        FillDigest(digest);
        return digest;
    }

    private int DigestCount() => _digestCount;

    private void FillDigest(DigestEntry[] digest)
    {
        int at = 0;
        for (int i = 0; i < _order.Count; i++)
        {
            ref readonly OwnerState owner = ref Row(_order[i]);
            if (owner.MaxVersion > 0)
            {
                digest[at++] = new DigestEntry(owner.Owner, owner.Generation, owner.MaxVersion);
            }
        }
    }

    /// <summary>Encoded length of the full digest's entries.</summary>
    public int DigestEntriesLength() => _digestLength;

    /// <summary>A Bloom digest of every owner's (generation, max version).</summary>
    public BloomDigest BloomDigest(double falsePositiveRate, uint salt)
    {
        BloomFilter filter = BloomFilter.Create(_order.Count, falsePositiveRate, salt);
        for (int i = 0; i < _order.Count; i++)
        {
            ref readonly OwnerState owner = ref Row(_order[i]);
            if (owner.MaxVersion > 0)
            {
                filter.Add(owner.Owner, owner.Generation, owner.MaxVersion);
            }
        }

        return new BloomDigest(salt, (byte)filter.HashCount, (uint)_order.Count, filter.Bits);
    }

    /// <summary>
    /// Deltas for a peer whose full digest is <paramref name="peerDigest"/>, within
    /// <paramref name="budgetBytes"/> of payload. Owners are served most out-of-date first
    /// (scuttle-depth); while other owners wait, one owner may take at most half the budget, and an
    /// owner whose next entry does not fit is skipped rather than blocking the rest. An owner's
    /// entries go in version order and stop at the last that fits, so the receiver never sees a gap.
    /// <c>MorePending</c> is set when anything was left out.
    /// </summary>
    public StateDeltaMessage DeltasFor(IReadOnlyList<DigestEntry> peerDigest, int budgetBytes, string? exceptOwner) =>
        Pack(CandidatesFor(peerDigest, exceptOwner), budgetBytes, extraPending: false);

    /// <summary>
    /// As <see cref="DeltasFor"/>, encoded (type byte + payload, the bytes <c>PacketBuilder.EncodeMessage</c>
    /// makes of that message) straight from the rows into a pooled array, with no <see cref="OwnerDelta"/>
    /// or entry array per owner (a stream's deltas: up to N owners per exchange while keys spread).
    /// </summary>
    internal PooledBytes EncodedDeltasFor(IReadOnlyList<DigestEntry> peerDigest, int budgetBytes, string? exceptOwner, out int ownerCount) =>
        PackEncoded(CandidatesFor(peerDigest, exceptOwner), budgetBytes, extraPending: false, out ownerCount);

    private List<Candidate> CandidatesFor(IReadOnlyList<DigestEntry> peerDigest, string? exceptOwner)
    {
        // A digest in strictly increasing ordinal order of owners (every digest this code sends) is
        // walked beside our rows, which are in the same order; any other (a peer's own order,
        // repeated owners) is looked up through a dictionary that keeps each owner's first entry.
        // Both find the same entry for every owner: the walk only saves the dictionary, N entries
        // per exchange while keys spread.
        Dictionary<string, DigestEntry>? peer = null;
        for (int i = 1; i < peerDigest.Count; i++)
        {
            if (string.CompareOrdinal(peerDigest[i - 1].Owner, peerDigest[i].Owner) >= 0)
            {
                peer = new(peerDigest.Count, StringComparer.Ordinal);
                foreach (DigestEntry entry in peerDigest)
                {
                    peer.TryAdd(entry.Owner, entry);
                }

                break;
            }
        }

        int next = 0; // the walk's place in peerDigest
        List<Candidate> candidates = ScratchCandidates();
        for (int i = 0; i < _order.Count; i++)
        {
            ref readonly OwnerState owner = ref Row(_order[i]);
            DigestEntry known = default;
            bool found;
            if (peer is not null)
            {
                found = peer.TryGetValue(owner.Owner, out known);
            }
            else
            {
                int c = -1;
                while (next < peerDigest.Count && (c = string.CompareOrdinal(peerDigest[next].Owner, owner.Owner)) < 0)
                {
                    next++;
                }

                found = next < peerDigest.Count && c == 0;
                known = found ? peerDigest[next] : default;
            }

            if (owner.MaxVersion == 0 || owner.Owner == exceptOwner)
            {
                continue;
            }

            if (!found)
            {
                candidates.Add(new Candidate(_order[i], 0, Reset: false, owner.Count));
            }
            else if (known.Generation < owner.Generation)
            {
                candidates.Add(new Candidate(_order[i], 0, Reset: true, owner.Count));
            }
            else if (known.Generation == owner.Generation && known.MaxVersion < owner.MaxVersion)
            {
                bool reset = known.MaxVersion < GcVersionOf(owner.Owner);
                candidates.Add(reset
                    ? new Candidate(_order[i], 0, Reset: true, owner.Count)
                    : new Candidate(_order[i], known.MaxVersion, Reset: false, owner.CountAbove(known.MaxVersion)));
            }
        }

        return candidates;
    }

    /// <summary>
    /// Deltas for a peer that sent a Bloom digest: for each owner, find the peer's max version by
    /// probing (generation, v) for v = our max, our max − 1, … (at most <paramref name="probeDepth"/>
    /// steps). An owner whose peer version cannot be found this way is left out and MorePending set,
    /// so the peer falls back to a full digest over a stream: the mode still converges.
    /// </summary>
    public StateDeltaMessage DeltasForBloom(BloomDigest bloom, int budgetBytes, string? exceptOwner, int probeDepth = BloomProbeDepth)
    {
        List<Candidate> candidates = CandidatesForBloom(bloom, exceptOwner, probeDepth, out bool unknown);
        return Pack(candidates, budgetBytes, unknown);
    }

    /// <summary>As <see cref="DeltasForBloom"/>, encoded into a pooled array as <see cref="EncodedDeltasFor"/> is.</summary>
    internal PooledBytes EncodedDeltasForBloom(BloomDigest bloom, int budgetBytes, string? exceptOwner, out int ownerCount)
    {
        List<Candidate> candidates = CandidatesForBloom(bloom, exceptOwner, BloomProbeDepth, out bool unknown);
        return PackEncoded(candidates, budgetBytes, unknown, out ownerCount);
    }

    private List<Candidate> CandidatesForBloom(BloomDigest bloom, string? exceptOwner, int probeDepth, out bool unknown)
    {
        BloomFilter filter = new(bloom.Bits, bloom.HashCount, bloom.Salt);
        List<Candidate> candidates = ScratchCandidates();
        unknown = false;
        for (int i = 0; i < _order.Count; i++)
        {
            ref readonly OwnerState owner = ref Row(_order[i]);
            if (owner.MaxVersion == 0 || owner.Owner == exceptOwner || filter.MayContain(owner.Owner, owner.Generation, owner.MaxVersion))
            {
                continue;
            }

            bool found = false;
            ulong floor = owner.MaxVersion > (ulong)probeDepth ? owner.MaxVersion - (ulong)probeDepth : 0;
            for (ulong v = owner.MaxVersion - 1; ; v--)
            {
                if (filter.MayContain(owner.Owner, owner.Generation, v))
                {
                    bool reset = v < GcVersionOf(owner.Owner);
                    candidates.Add(reset ? new Candidate(_order[i], 0, true, owner.Count) : new Candidate(_order[i], v, false, owner.CountAbove(v)));
                    found = true;
                    break;
                }

                if (v == floor)
                {
                    break;
                }
            }

            unknown |= !found;
        }

        return candidates;
    }

    // The candidates of one DeltasFor, one list per thread rather than one per call (N candidates
    // per exchange while keys spread; a simulation runs every node on one thread). Cleared when
    // taken and after packing.
    [ThreadStatic]
    private static List<Candidate>? t_candidates;

    private static List<Candidate> ScratchCandidates()
    {
        List<Candidate> list = t_candidates ??= [];
        list.Clear();
        return list;
    }

    // The owners one pack chose, one list per thread as the candidates (cleared after each pack).
    [ThreadStatic]
    private static List<PackedOwner>? t_packed;

    /// <summary>The deltas for the candidates, as a message (datagrams, tests).</summary>
    private StateDeltaMessage Pack(List<Candidate> candidates, int budgetBytes, bool extraPending)
    {
        List<PackedOwner> plan = t_packed ??= [];
        try
        {
            bool pending = Plan(candidates, budgetBytes, extraPending, plan, out _);
            OwnerDelta[] owners = new OwnerDelta[plan.Count];
            for (int k = 0; k < owners.Length; k++)
            {
                PackedOwner p = plan[k];
                ref readonly OwnerState owner = ref Row(p.Slot);
                StateEntry[] entries = new StateEntry[p.Count];
                int count = 0;
                foreach (StoredEntry stored in p.Reset ? owner.Entries : owner.Above(p.From))
                {
                    if (count == entries.Length)
                    {
                        break;
                    }

                    entries[count++] = stored.ToWire();
                }

                owners[k] = new OwnerDelta(owner.Owner, owner.Generation, p.Reset, p.Reset ? 0 : p.From, p.To, entries);
            }

            return new StateDeltaMessage(pending, owners);
        }
        finally
        {
            plan.Clear();
            candidates.Clear(); // the scratch lists hold nothing between calls
        }
    }

    /// <summary>The deltas for the candidates, encoded as a StateDelta message (type byte + payload) into a pooled array.</summary>
    private PooledBytes PackEncoded(List<Candidate> candidates, int budgetBytes, bool extraPending, out int ownerCount)
    {
        List<PackedOwner> plan = t_packed ??= [];
        try
        {
            bool pending = Plan(candidates, budgetBytes, extraPending, plan, out int payloadLength);
            ownerCount = plan.Count;
            PooledBytes bytes = PooledBytes.Rent(1 + payloadLength);
            bytes.Array[0] = (byte)MessageType.StateDelta;
            WireWriter writer = new(bytes.Array.AsSpan(1, payloadLength));
            writer.WriteByte(pending ? (byte)1 : (byte)0);
            writer.WriteUInt16(checked((ushort)plan.Count));
            foreach (PackedOwner p in plan)
            {
                ref readonly OwnerState owner = ref Row(p.Slot);
                OwnerDelta.WriteHeader(ref writer, owner.Owner, owner.Generation, p.Reset, p.Reset ? 0 : p.From, p.To, p.Count);
                int count = 0;
                foreach (StoredEntry stored in p.Reset ? owner.Entries : owner.Above(p.From))
                {
                    if (count++ == p.Count)
                    {
                        break;
                    }

                    stored.ToWire().Write(ref writer);
                }
            }

            if (writer.Position != payloadLength)
            {
                bytes.Dispose();
                throw new InvalidOperationException($"StateDelta wrote {writer.Position} bytes but planned {payloadLength}.");
            }

            return bytes;
        }
        finally
        {
            plan.Clear();
            candidates.Clear();
        }
    }

    /// <summary>
    /// Chooses the owners and how many entries of each fit (into <paramref name="plan"/>, in the
    /// order they go); returns MorePending and the payload's length. Scuttle-depth: most missing
    /// first, ties by name (the candidates are in name order). One key per candidate,
    /// (int.MaxValue − missing, index), sorted ascending is exactly the stable order LINQ's
    /// OrderByDescending gave, in a rented array instead of LINQ's buffers.
    /// </summary>
    private bool Plan(List<Candidate> candidates, int budgetBytes, bool extraPending, List<PackedOwner> plan, out int payloadLength)
    {
        int n = candidates.Count;
        long[] order = System.Buffers.ArrayPool<long>.Shared.Rent(Math.Max(1, n));
        try
        {
            for (int i = 0; i < n; i++)
            {
                order[i] = ((long)(int.MaxValue - candidates[i].Missing) << 32) | (uint)i;
            }

            order.AsSpan(0, n).Sort();
            return PlanInOrder(candidates, order.AsSpan(0, n), budgetBytes, extraPending, plan, out payloadLength);
        }
        finally
        {
            System.Buffers.ArrayPool<long>.Shared.Return(order);
        }
    }

    private bool PlanInOrder(List<Candidate> candidates, ReadOnlySpan<long> order, int budgetBytes, bool extraPending, List<PackedOwner> plan, out int payloadLength)
    {
        int used = StateDeltaMessage.HeaderLength;
        bool pending = extraPending;
        for (int i = 0; i < order.Length; i++)
        {
            Candidate c = candidates[(int)(uint)order[i]];
            ref readonly OwnerState owner = ref Row(c.Slot);
            int header = OwnerDelta.HeaderLength(owner.Owner);
            int room = budgetBytes - used - header;
            bool othersWaiting = i < order.Length - 1;
            int cap = othersWaiting ? Math.Max(room / 2, Math.Min(room, budgetBytes / 2)) : room;
            if (room <= 0 || plan.Count == ushort.MaxValue)
            {
                pending = true;
                continue;
            }

            int count = 0;
            int size = 0;
            ulong to = c.From;
            bool complete = true;
            foreach (StoredEntry stored in c.Reset ? owner.Entries : owner.Above(c.From))
            {
                int length = stored.ToWire().EncodedLength;
                if (size + length > cap)
                {
                    complete = false;
                    break;
                }

                count++;
                size += length;
                to = stored.Version;
            }

            if (complete)
            {
                to = owner.MaxVersion; // versions past the last entry were overwritten: the range is whole
            }
            else
            {
                pending = true;
                if (c.Reset || count == 0)
                {
                    continue; // a reset must be whole; and an empty partial range says nothing
                }
            }

            plan.Add(new PackedOwner(c.Slot, c.Reset, c.From, to, count));
            used += header + size;
        }

        payloadLength = used;
        return pending;
    }

    /// <summary>
    /// Applies a peer's deltas. Returns the changes, in order. A delta that would leave a gap (it
    /// starts above what we hold) or that is about an older generation is ignored; deltas about the
    /// local owner are ignored (only we write our map).
    /// </summary>
    public List<AppliedChange> Apply(StateDeltaMessage delta, TimeSpan now, int ownersMax, out int ignored)
    {
        List<AppliedChange> changes = [];
        ApplyInto(delta, now, ownersMax, changes, out ignored);
        return changes;
    }

    /// <summary>As <see cref="Apply"/>, adding the changes to <paramref name="changes"/> (which must be empty): a caller that only reads them can reuse one list.</summary>
    public void ApplyInto(StateDeltaMessage delta, TimeSpan now, int ownersMax, List<AppliedChange> changes, out int ignored)
    {
        ignored = 0;
        for (int o = 0; o < delta.Owners.Count; o++)
        {
            OwnerDelta d = delta.Owners[o];
            if (d.Owner == Local.Owner)
            {
                continue;
            }

            int index = IndexOf(d.Owner);
            int slot;
            if (index >= 0)
            {
                slot = _order[index];
            }
            else
            {
                if (!d.Reset && d.FromVersion != 0)
                {
                    ignored++;
                    continue;
                }

                if (_order.Count >= ownersMax)
                {
                    ignored++;
                    continue;
                }

                slot = AddOwner(~index, new OwnerState(KeyOf(d.Owner, d.Generation)));
            }

            ref OwnerState owner = ref Row(slot);

            if (d.Generation < owner.Generation)
            {
                ignored++;
                continue;
            }

            bool newGeneration = d.Generation > owner.Generation;
            if (newGeneration || d.Reset)
            {
                if ((newGeneration && !d.Reset && d.FromVersion != 0) || (!newGeneration && d.ToVersion <= owner.MaxVersion))
                {
                    ignored++;
                    continue;
                }

                foreach (StoredEntry old in owner.Entries.ToArray())
                {
                    if (!old.IsTombstone)
                    {
                        changes.Add(new AppliedChange(owner.Owner, old.Key, old.Value, null, 0));
                    }
                }

                LeaveSums(owner);
                owner.Clear(d.Generation == owner.Generation ? owner.Key : KeyOf(owner.Owner, d.Generation));
                EnterSums(owner); // nothing: a cleared row has not written (a reset's writes come below)
                _gcVersions?.Remove(owner.Owner);
            }
            else if (owner.MaxVersion < d.FromVersion)
            {
                ignored++; // a gap: we lack (MaxVersion, FromVersion]
                continue;
            }

            if (d.ToVersion <= owner.MaxVersion)
            {
                continue;
            }

            // Each put raises MaxVersion to the delta's end in the same step (a row holds MaxVersion
            // apart from its entries only while the two differ: OwnerState.MaxVersion); what the
            // entries are compared with is the MaxVersion before the delta.
            ulong held = owner.MaxVersion;
            LeaveSums(owner);
            for (int e = 0; e < d.Entries.Count; e++)
            {
                StateEntry entry = d.Entries[e];
                if (entry.Version <= held)
                {
                    continue;
                }

                StoredEntry stored = new(entry.Key, entry.Version, entry.IsTombstone, entry.TtlMilliseconds, entry.Value, now);
                if (owner.TryPut(stored, out StoredEntry replaced, _names, d.ToVersion))
                {
                    byte[]? oldValue = replaced.Key is not null && !replaced.IsTombstone ? replaced.Value : null;
                    byte[]? newValue = entry.IsTombstone ? null : entry.Value;
                    if (oldValue is not null || newValue is not null)
                    {
                        changes.Add(new AppliedChange(owner.Owner, entry.Key, oldValue, newValue, entry.Version));
                    }
                }
            }

            owner.MaxVersion = d.ToVersion;
            EnterSums(owner);
        }

        // Reset changes about keys that the reset brought back are reported as one change each.
        Coalesce(changes);
    }

    /// <summary>Removes tombstones older than <paramref name="grace"/>; returns how many.</summary>
    public int CollectTombstones(TimeSpan now, TimeSpan grace)
    {
        int removed = 0;
        for (int i = 0; i < _order.Count; i++)
        {
            ref OwnerState owner = ref Row(_order[i]);
            int count = owner.CollectTombstones(now, grace, out ulong highest);
            if (count > 0)
            {
                _gcVersions ??= new Dictionary<string, ulong>(StringComparer.Ordinal);
                _gcVersions[owner.Owner] = Math.Max(GcVersionOf(owner.Owner), highest);
                removed += count;
            }
        }

        return removed;
    }

    /// <summary>Local keys whose TTL has run out at <paramref name="now"/>, or null when none has (every state round asks: no list then).</summary>
    public List<string>? ExpiredLocalKeys(TimeSpan now)
    {
        List<string>? expired = null;
        foreach (StoredEntry entry in Local.Entries)
        {
            if (!entry.IsTombstone && entry.TtlMilliseconds > 0 && now - entry.UpdatedAt >= TimeSpan.FromMilliseconds(entry.TtlMilliseconds))
            {
                (expired ??= []).Add(entry.Key);
            }
        }

        return expired;
    }

    /// <summary>Forgets an owner entirely (its member was reaped); returns the live keys it had.</summary>
    public List<AppliedChange> RemoveOwner(string owner)
    {
        List<AppliedChange> changes = [];
        int index = owner == Local.Owner ? -1 : IndexOf(owner);
        if (index >= 0)
        {
            int slot = _order[index];
            OwnerState state = Row(slot);
            LeaveSums(state);
            _order.RemoveAt(index);
            int last = _order.Count;
            if (slot != last)
            {
                // Keep the slots dense: the last row moves into the freed slot, and its place in the name order follows it.
                Row(slot) = Row(last);
                _order[IndexOf(Row(slot).Owner)] = slot;
            }

            Row(last) = default;
            _gcVersions?.Remove(owner);
            foreach (StoredEntry entry in state.Entries)
            {
                if (!entry.IsTombstone)
                {
                    changes.Add(new AppliedChange(owner, entry.Key, entry.Value, null, 0));
                }
            }
        }

        return changes;
    }

    /// <summary>Encoded key length check shared by the API.</summary>
    public static int KeyBytes(string key) => Encoding.UTF8.GetByteCount(key);

    /// <summary>The owner's index in the sorted array, or the bitwise complement of where it would go.</summary>
    private int IndexOf(string owner)
    {
        int lo = 0;
        int hi = _order.Count - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            int c = string.CompareOrdinal(Row(_order[mid]).Owner, owner);
            if (c == 0)
            {
                return mid;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return ~lo;
    }

    /// <summary>An owner key, shared between a simulation's nodes.</summary>
    private OwnerKey KeyOf(string owner, ulong generation) => _names?.InternOwner(owner, generation) ?? new OwnerKey(owner, generation);

    private ref OwnerState Row(int slot) => ref _rows[slot];

    /// <summary>Adds a row in the next slot and its place at <paramref name="at"/> in the name order; returns the slot.</summary>
    private int AddOwner(int at, in OwnerState owner)
    {
        int slot = _order.Count;
        _rows.EnsureCapacity(slot + 1);
        _order.Insert(at, slot);
        Row(slot) = owner;
        EnterSums(owner);
        return slot;
    }

    // Coalesce's check for a repeated (owner, key), one dictionary per thread (it ran at every
    // apply of two changes or more: N entries per exchange while keys spread). Cleared after use.
    [ThreadStatic]
    private static Dictionary<(string, string), int>? t_lastChange;

    private static void Coalesce(List<AppliedChange> changes)
    {
        if (changes.Count < 2)
        {
            return;
        }

        // After a reset the same key may appear as "removed" then "set": report one change per key, last state wins.
        Dictionary<(string, string), int> last = t_lastChange ?? new();
        t_lastChange = null; // taken: a nested call on this thread gets its own
        try
        {
            last.Clear();
            for (int i = 0; i < changes.Count; i++)
            {
                last[(changes[i].Owner, changes[i].Key)] = i;
            }

            if (last.Count == changes.Count)
            {
                return;
            }

            List<AppliedChange> result = [];
            Dictionary<(string, string), byte[]?> firstOld = [];
            for (int i = 0; i < changes.Count; i++)
            {
                (string, string) key = (changes[i].Owner, changes[i].Key);
                firstOld.TryAdd(key, changes[i].OldValue);
                if (last[key] == i)
                {
                    AppliedChange change = changes[i] with { OldValue = firstOld[key] };
                    if (change.OldValue is not null || change.NewValue is not null)
                    {
                        result.Add(change);
                    }
                }
            }

            changes.Clear();
            changes.AddRange(result);
        }
        finally
        {
            last.Clear();
            t_lastChange = last;
        }
    }

    /// <summary>An owner to serve, by slot (a reference to the row, not a copy of it: 16 bytes, not 96).</summary>
    private readonly record struct Candidate(int Slot, ulong From, bool Reset, int Missing);

    /// <summary>An owner a pack chose: its range (all entries for a reset, else those above From), how far it goes, and how many of its entries fit.</summary>
    private readonly record struct PackedOwner(int Slot, bool Reset, ulong From, ulong To, int Count);
}
