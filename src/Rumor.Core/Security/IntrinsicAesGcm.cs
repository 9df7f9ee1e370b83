using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AesNi = System.Runtime.Intrinsics.X86.Aes;
using System.Security.Cryptography;

namespace Rumor.Core.Security;

/// <summary>
/// AES-GCM (NIST SP 800-38D) with a 12-byte nonce and a 16-byte tag over the x86 AES-NI and
/// PCLMULQDQ instructions, for 16-, 24- and 32-byte keys: the same bytes as
/// <see cref="AesGcm"/>, checked against it and against NIST's test vectors
/// (tests/Rumor.Core.Tests/Security/IntrinsicAesGcmTests.cs).
/// <para>
/// Why hand-written: the platform's <see cref="AesGcm"/> costs about 1.1 µs per call whatever the
/// size (on Linux: OpenSSL 3's EVP re-initialisation and five P/Invokes per call; docs/BENCHMARKS.md,
/// "Where the encrypted path's extra goes"), and an encrypted gossip datagram costs three calls
/// (seal, open, the sealed ack), which kept encrypted throughput near 55–70 % of plaintext.
/// BouncyCastle.Cryptography 2.7.0's GCM was measured too: it allocates 560 B per packet (its
/// <c>Init</c> per nonce) and took 20 µs per 1,400 bytes. Here the key schedule and the powers of
/// the hash key are computed once per key, so a call costs only the blocks it processes.
/// </para>
/// <para>
/// Only used where <see cref="IsSupported"/> (<see cref="GcmCipher"/> falls back to
/// <see cref="AesGcm"/> elsewhere). AES rounds run in hardware (no table lookups), GHASH uses
/// carry-less multiplication (no tables), and the tag is compared with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>, so nothing branches on secret data.
/// GHASH follows Intel's white paper "Carry-less multiplication and its usage for computing the
/// GCM mode" (Gueron, Kounavis): blocks byte-reflected, eight (then four) blocks per reduction with H..H⁸.
/// The object is read-only after construction, so concurrent calls are safe.
/// </para>
/// </summary>
internal sealed class IntrinsicAesGcm
{
    /// <summary>Nonce bytes.</summary>
    public const int NonceBytes = 12;

    /// <summary>Tag bytes.</summary>
    public const int TagBytes = 16;

    private const int BlockBytes = 16;

    private readonly Vector128<byte>[] _roundKeys;
    private readonly int _rounds;

    // The hash key H = E(K, 0) and its powers H²..H⁸, byte-reflected (zeroed by Clear).
    private Vector128<byte> _h1;
    private Vector128<byte> _h2;
    private Vector128<byte> _h3;
    private Vector128<byte> _h4;
    private Vector128<byte> _h5;
    private Vector128<byte> _h6;
    private Vector128<byte> _h7;
    private Vector128<byte> _h8;

    /// <summary>True when this CPU and runtime have the instructions (else use <see cref="AesGcm"/>).</summary>
    public static bool IsSupported => AesNi.IsSupported && Pclmulqdq.IsSupported && Ssse3.IsSupported;

    private static Vector128<byte> ByteReverse => Vector128.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);

    /// <summary>Expands <paramref name="key"/> (16, 24 or 32 bytes) and computes the hash key's powers.</summary>
    public IntrinsicAesGcm(ReadOnlySpan<byte> key)
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException("AES-NI, PCLMULQDQ and SSSE3 are needed.");
        }

        if (key.Length is not (16 or 24 or 32))
        {
            throw new ArgumentException($"An AES key is 16, 24 or 32 bytes; this one is {key.Length}.", nameof(key));
        }

        // FIPS-197 §5.2 key expansion, words little-endian (byte 0 lowest) so that four words are
        // one round key in the byte order AESENC takes.
        int nk = key.Length / 4;
        _rounds = nk + 6;
        int words = 4 * (_rounds + 1);
        Span<uint> w = stackalloc uint[60];
        for (int i = 0; i < nk; i++)
        {
            w[i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
        }

        uint rcon = 1;
        for (int i = nk; i < words; i++)
        {
            uint t = w[i - 1];
            if (i % nk == 0)
            {
                t = SubWord(BitOperations.RotateRight(t, 8)) ^ rcon;
                rcon = (rcon << 1) ^ (((rcon >> 7) & 1) * 0x11B);
            }
            else if (nk > 6 && i % nk == 4)
            {
                t = SubWord(t);
            }

            w[i] = w[i - nk] ^ t;
        }

        _roundKeys = new Vector128<byte>[_rounds + 1];
        for (int r = 0; r <= _rounds; r++)
        {
            _roundKeys[r] = Vector128.Create(w[4 * r], w[(4 * r) + 1], w[(4 * r) + 2], w[(4 * r) + 3]).AsByte();
        }

        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(w));
        _h1 = Reverse(EncryptBlock(Vector128<byte>.Zero));
        _h2 = Multiply(_h1, _h1);
        _h3 = Multiply(_h2, _h1);
        _h4 = Multiply(_h3, _h1);
        _h5 = Multiply(_h4, _h1);
        _h6 = Multiply(_h5, _h1);
        _h7 = Multiply(_h6, _h1);
        _h8 = Multiply(_h7, _h1);
    }

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (same length; the same buffer or not overlapping) and writes the tag.</summary>
    public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, plaintext, ciphertext, tag);
        Vector128<byte> counterBase = CounterBase(nonce);
        Vector128<byte> hash = HashAssociatedData(associatedData);
        hash = Crypt(counterBase, plaintext, ciphertext, hash, encrypting: true);
        Finish(counterBase, hash, associatedData.Length, plaintext.Length).CopyTo(tag);
    }

    /// <summary>
    /// Authenticates and decrypts: true with <paramref name="plaintext"/> written; false when the tag
    /// does not match (any byte of nonce, ciphertext, tag or associated data changed, or another
    /// key), with <paramref name="plaintext"/> cleared.
    /// </summary>
    public bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, ciphertext, plaintext, tag);
        Vector128<byte> counterBase = CounterBase(nonce);
        Vector128<byte> hash = HashAssociatedData(associatedData);
        hash = Crypt(counterBase, ciphertext, plaintext, hash, encrypting: false);
        Span<byte> expected = stackalloc byte[TagBytes];
        Finish(counterBase, hash, associatedData.Length, ciphertext.Length).CopyTo(expected);
        if (CryptographicOperations.FixedTimeEquals(expected, tag))
        {
            return true;
        }

        CryptographicOperations.ZeroMemory(plaintext);
        return false;
    }

    /// <summary>Zeroes the round keys and hash key (the object is unusable after).</summary>
    public void Clear()
    {
        Array.Clear(_roundKeys);
        _h1 = _h2 = _h3 = _h4 = _h5 = _h6 = _h7 = _h8 = Vector128<byte>.Zero;
    }

    private static void CheckArguments(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> input, Span<byte> output, ReadOnlySpan<byte> tag)
    {
        if (nonce.Length != NonceBytes)
        {
            throw new ArgumentException($"The nonce is {NonceBytes} bytes; this one is {nonce.Length}.", nameof(nonce));
        }

        if (tag.Length != TagBytes)
        {
            throw new ArgumentException($"The tag is {TagBytes} bytes; this one is {tag.Length}.", nameof(tag));
        }

        if (output.Length != input.Length)
        {
            throw new ArgumentException($"The output ({output.Length} bytes) must be as long as the input ({input.Length} bytes).", nameof(output));
        }

        // Blocks are read four at a time before they are written: the same buffer is safe, a shifted overlap is not.
        if (input.Overlaps(output, out int offset) && offset != 0)
        {
            throw new ArgumentException("The input and output overlap (other than being the same buffer).", nameof(output));
        }
    }

    /// <summary>Nonce ‖ 0³² : counter block i is this with the big-endian counter i in its last four bytes.</summary>
    private static Vector128<byte> CounterBase(ReadOnlySpan<byte> nonce)
    {
        Span<byte> block = stackalloc byte[BlockBytes];
        block.Clear();
        nonce.CopyTo(block);
        return Vector128.Create((ReadOnlySpan<byte>)block);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> CounterBlock(Vector128<byte> counterBase, uint counter) =>
        counterBase.AsUInt32().WithElement(3, BinaryPrimitives.ReverseEndianness(counter)).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Reverse(Vector128<byte> block) => Ssse3.Shuffle(block, ByteReverse);

    private Vector128<byte> HashAssociatedData(ReadOnlySpan<byte> data)
    {
        Vector128<byte> hash = Vector128<byte>.Zero;
        ref byte source = ref MemoryMarshal.GetReference(data);
        int full = data.Length & ~(BlockBytes - 1);
        for (int offset = 0; offset < full; offset += BlockBytes)
        {
            hash = Multiply(hash ^ Reverse(Vector128.LoadUnsafe(ref source, (nuint)offset)), _h1);
        }

        if (full < data.Length)
        {
            Span<byte> last = stackalloc byte[BlockBytes];
            last.Clear();
            data[full..].CopyTo(last);
            hash = Multiply(hash ^ Reverse(Vector128.Create((ReadOnlySpan<byte>)last)), _h1);
        }

        return hash;
    }

    /// <summary>CTR from counter 2 over <paramref name="input"/> into <paramref name="output"/>, hashing the ciphertext (the output when encrypting, the input when decrypting).</summary>
    private Vector128<byte> Crypt(Vector128<byte> counterBase, ReadOnlySpan<byte> input, Span<byte> output, Vector128<byte> hash, bool encrypting)
    {
        ref byte source = ref MemoryMarshal.GetReference(input);
        ref byte destination = ref MemoryMarshal.GetReference(output);
        uint counter = 2;
        int offset = 0;
        int eights = input.Length & ~((8 * BlockBytes) - 1);
        for (; offset < eights; offset += 8 * BlockBytes, counter += 8)
        {
            ref byte from = ref Unsafe.Add(ref source, offset);
            ref byte to = ref Unsafe.Add(ref destination, offset);
            Vector128<byte> in0 = Vector128.LoadUnsafe(ref from, 0);
            Vector128<byte> in1 = Vector128.LoadUnsafe(ref from, 16);
            Vector128<byte> in2 = Vector128.LoadUnsafe(ref from, 32);
            Vector128<byte> in3 = Vector128.LoadUnsafe(ref from, 48);
            Vector128<byte> in4 = Vector128.LoadUnsafe(ref from, 64);
            Vector128<byte> in5 = Vector128.LoadUnsafe(ref from, 80);
            Vector128<byte> in6 = Vector128.LoadUnsafe(ref from, 96);
            Vector128<byte> in7 = Vector128.LoadUnsafe(ref from, 112);
            EncryptEight(counterBase, counter, out Vector128<byte> k0, out Vector128<byte> k1, out Vector128<byte> k2, out Vector128<byte> k3, out Vector128<byte> k4, out Vector128<byte> k5, out Vector128<byte> k6, out Vector128<byte> k7);
            Vector128<byte> out0 = in0 ^ k0;
            Vector128<byte> out1 = in1 ^ k1;
            Vector128<byte> out2 = in2 ^ k2;
            Vector128<byte> out3 = in3 ^ k3;
            Vector128<byte> out4 = in4 ^ k4;
            Vector128<byte> out5 = in5 ^ k5;
            Vector128<byte> out6 = in6 ^ k6;
            Vector128<byte> out7 = in7 ^ k7;
            out0.StoreUnsafe(ref to, 0);
            out1.StoreUnsafe(ref to, 16);
            out2.StoreUnsafe(ref to, 32);
            out3.StoreUnsafe(ref to, 48);
            out4.StoreUnsafe(ref to, 64);
            out5.StoreUnsafe(ref to, 80);
            out6.StoreUnsafe(ref to, 96);
            out7.StoreUnsafe(ref to, 112);
            hash = encrypting
                ? HashEight(hash, out0, out1, out2, out3, out4, out5, out6, out7)
                : HashEight(hash, in0, in1, in2, in3, in4, in5, in6, in7);
        }

        int fours = input.Length & ~((4 * BlockBytes) - 1);
        for (; offset < fours; offset += 4 * BlockBytes, counter += 4)
        {
            Vector128<byte> in0 = Vector128.LoadUnsafe(ref source, (nuint)offset);
            Vector128<byte> in1 = Vector128.LoadUnsafe(ref source, (nuint)(offset + 16));
            Vector128<byte> in2 = Vector128.LoadUnsafe(ref source, (nuint)(offset + 32));
            Vector128<byte> in3 = Vector128.LoadUnsafe(ref source, (nuint)(offset + 48));
            EncryptFour(
                CounterBlock(counterBase, counter),
                CounterBlock(counterBase, counter + 1),
                CounterBlock(counterBase, counter + 2),
                CounterBlock(counterBase, counter + 3),
                out Vector128<byte> k0,
                out Vector128<byte> k1,
                out Vector128<byte> k2,
                out Vector128<byte> k3);
            Vector128<byte> out0 = in0 ^ k0;
            Vector128<byte> out1 = in1 ^ k1;
            Vector128<byte> out2 = in2 ^ k2;
            Vector128<byte> out3 = in3 ^ k3;
            out0.StoreUnsafe(ref destination, (nuint)offset);
            out1.StoreUnsafe(ref destination, (nuint)(offset + 16));
            out2.StoreUnsafe(ref destination, (nuint)(offset + 32));
            out3.StoreUnsafe(ref destination, (nuint)(offset + 48));
            hash = encrypting ? HashFour(hash, out0, out1, out2, out3) : HashFour(hash, in0, in1, in2, in3);
        }

        int full = input.Length & ~(BlockBytes - 1);
        for (; offset < full; offset += BlockBytes, counter++)
        {
            Vector128<byte> block = Vector128.LoadUnsafe(ref source, (nuint)offset);
            Vector128<byte> result = block ^ EncryptBlock(CounterBlock(counterBase, counter));
            result.StoreUnsafe(ref destination, (nuint)offset);
            hash = Multiply(hash ^ Reverse(encrypting ? result : block), _h1);
        }

        if (offset < input.Length)
        {
            int rest = input.Length - offset;
            Span<byte> last = stackalloc byte[BlockBytes];
            last.Clear();
            input[offset..].CopyTo(last);
            Vector128<byte> block = Vector128.Create((ReadOnlySpan<byte>)last);
            Vector128<byte> result = block ^ EncryptBlock(CounterBlock(counterBase, counter));
            result.CopyTo(last);
            last[..rest].CopyTo(output[offset..]);
            last[rest..].Clear();
            hash = Multiply(hash ^ Reverse(encrypting ? Vector128.Create((ReadOnlySpan<byte>)last) : block), _h1);
        }

        return hash;
    }

    /// <summary>The tag: GHASH over the length block, then XOR with E(K, J0).</summary>
    private Vector128<byte> Finish(Vector128<byte> counterBase, Vector128<byte> hash, int associatedBytes, int textBytes)
    {
        // The length block len(A)₆₄ ‖ len(C)₆₄ (big-endian bits), byte-reflected.
        Vector128<byte> lengths = Vector128.Create((ulong)textBytes * 8, (ulong)associatedBytes * 8).AsByte();
        hash = Multiply(hash ^ lengths, _h1);
        return Reverse(hash) ^ EncryptBlock(CounterBlock(counterBase, 1));
    }

    private Vector128<byte> EncryptBlock(Vector128<byte> block)
    {
        Vector128<byte>[] keys = _roundKeys;
        block ^= keys[0];
        for (int r = 1; r < _rounds; r++)
        {
            block = AesNi.Encrypt(block, keys[r]);
        }

        return AesNi.EncryptLast(block, keys[_rounds]);
    }

    /// <summary>Four independent blocks interleaved, so the AES unit's latency overlaps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EncryptFour(Vector128<byte> b0, Vector128<byte> b1, Vector128<byte> b2, Vector128<byte> b3, out Vector128<byte> r0, out Vector128<byte> r1, out Vector128<byte> r2, out Vector128<byte> r3)
    {
        Vector128<byte>[] keys = _roundKeys;
        Vector128<byte> key = keys[0];
        b0 ^= key;
        b1 ^= key;
        b2 ^= key;
        b3 ^= key;
        for (int r = 1; r < _rounds; r++)
        {
            key = keys[r];
            b0 = AesNi.Encrypt(b0, key);
            b1 = AesNi.Encrypt(b1, key);
            b2 = AesNi.Encrypt(b2, key);
            b3 = AesNi.Encrypt(b3, key);
        }

        key = keys[_rounds];
        r0 = AesNi.EncryptLast(b0, key);
        r1 = AesNi.EncryptLast(b1, key);
        r2 = AesNi.EncryptLast(b2, key);
        r3 = AesNi.EncryptLast(b3, key);
    }

    /// <summary>Eight counter blocks from <paramref name="counter"/> on, interleaved: AESENC's latency is about four times its issue interval, so eight in flight keep the unit busy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EncryptEight(Vector128<byte> counterBase, uint counter, out Vector128<byte> r0, out Vector128<byte> r1, out Vector128<byte> r2, out Vector128<byte> r3, out Vector128<byte> r4, out Vector128<byte> r5, out Vector128<byte> r6, out Vector128<byte> r7)
    {
        Vector128<byte>[] keys = _roundKeys;
        int rounds = _rounds;
        Vector128<byte> key = keys[0];
        Vector128<byte> b0 = CounterBlock(counterBase, counter) ^ key;
        Vector128<byte> b1 = CounterBlock(counterBase, counter + 1) ^ key;
        Vector128<byte> b2 = CounterBlock(counterBase, counter + 2) ^ key;
        Vector128<byte> b3 = CounterBlock(counterBase, counter + 3) ^ key;
        Vector128<byte> b4 = CounterBlock(counterBase, counter + 4) ^ key;
        Vector128<byte> b5 = CounterBlock(counterBase, counter + 5) ^ key;
        Vector128<byte> b6 = CounterBlock(counterBase, counter + 6) ^ key;
        Vector128<byte> b7 = CounterBlock(counterBase, counter + 7) ^ key;
        for (int r = 1; r < rounds; r++)
        {
            key = keys[r];
            b0 = AesNi.Encrypt(b0, key);
            b1 = AesNi.Encrypt(b1, key);
            b2 = AesNi.Encrypt(b2, key);
            b3 = AesNi.Encrypt(b3, key);
            b4 = AesNi.Encrypt(b4, key);
            b5 = AesNi.Encrypt(b5, key);
            b6 = AesNi.Encrypt(b6, key);
            b7 = AesNi.Encrypt(b7, key);
        }

        key = keys[rounds];
        r0 = AesNi.EncryptLast(b0, key);
        r1 = AesNi.EncryptLast(b1, key);
        r2 = AesNi.EncryptLast(b2, key);
        r3 = AesNi.EncryptLast(b3, key);
        r4 = AesNi.EncryptLast(b4, key);
        r5 = AesNi.EncryptLast(b5, key);
        r6 = AesNi.EncryptLast(b6, key);
        r7 = AesNi.EncryptLast(b7, key);
    }

    /// <summary>Eight ciphertext blocks into the hash with one reduction: (hash ⊕ c0)·H⁸ ⊕ c1·H⁷ ⊕ … ⊕ c7·H.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector128<byte> HashEight(Vector128<byte> hash, Vector128<byte> c0, Vector128<byte> c1, Vector128<byte> c2, Vector128<byte> c3, Vector128<byte> c4, Vector128<byte> c5, Vector128<byte> c6, Vector128<byte> c7)
    {
        Vector128<ulong> low = Vector128<ulong>.Zero;
        Vector128<ulong> middle = Vector128<ulong>.Zero;
        Vector128<ulong> high = Vector128<ulong>.Zero;
        MultiplyAdd(hash ^ Reverse(c0), _h8, ref low, ref middle, ref high);
        MultiplyAdd(Reverse(c1), _h7, ref low, ref middle, ref high);
        MultiplyAdd(Reverse(c2), _h6, ref low, ref middle, ref high);
        MultiplyAdd(Reverse(c3), _h5, ref low, ref middle, ref high);
        MultiplyAdd(Reverse(c4), _h4, ref low, ref middle, ref high);
        MultiplyAdd(Reverse(c5), _h3, ref low, ref middle, ref high);
        MultiplyAdd(Reverse(c6), _h2, ref low, ref middle, ref high);
        MultiplyAdd(Reverse(c7), _h1, ref low, ref middle, ref high);
        return Reduce(low, middle, high);
    }

    /// <summary>(((hash ⊕ c0)·H ⊕ c1)·H ⊕ c2)·H ⊕ c3)·H as (hash ⊕ c0)·H⁴ ⊕ c1·H³ ⊕ c2·H² ⊕ c3·H with one reduction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector128<byte> HashFour(Vector128<byte> hash, Vector128<byte> c0, Vector128<byte> c1, Vector128<byte> c2, Vector128<byte> c3)
    {
        Vector128<ulong> low = Vector128<ulong>.Zero;
        Vector128<ulong> middle = Vector128<ulong>.Zero;
        Vector128<ulong> high = Vector128<ulong>.Zero;
        MultiplyAdd(hash ^ Reverse(c0), _h4, ref low, ref middle, ref high);
        MultiplyAdd(Reverse(c1), _h3, ref low, ref middle, ref high);
        MultiplyAdd(Reverse(c2), _h2, ref low, ref middle, ref high);
        MultiplyAdd(Reverse(c3), _h1, ref low, ref middle, ref high);
        return Reduce(low, middle, high);
    }

    private static Vector128<byte> Multiply(Vector128<byte> a, Vector128<byte> b)
    {
        Vector128<ulong> low = Vector128<ulong>.Zero;
        Vector128<ulong> middle = Vector128<ulong>.Zero;
        Vector128<ulong> high = Vector128<ulong>.Zero;
        MultiplyAdd(a, b, ref low, ref middle, ref high);
        return Reduce(low, middle, high);
    }

    /// <summary>Adds the unreduced 256-bit carry-less product a·b (schoolbook: low, middle, high partial products).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyAdd(Vector128<byte> a, Vector128<byte> b, ref Vector128<ulong> low, ref Vector128<ulong> middle, ref Vector128<ulong> high)
    {
        Vector128<ulong> x = a.AsUInt64();
        Vector128<ulong> y = b.AsUInt64();
        low ^= Pclmulqdq.CarrylessMultiply(x, y, 0x00);
        high ^= Pclmulqdq.CarrylessMultiply(x, y, 0x11);
        middle ^= Pclmulqdq.CarrylessMultiply(x, y, 0x10) ^ Pclmulqdq.CarrylessMultiply(x, y, 0x01);
    }

    /// <summary>
    /// The 256-bit product reduced modulo x¹²⁸ + x⁷ + x² + x + 1 in the bit-reflected representation:
    /// shifted left by one (the reflection), then folded (Gueron and Kounavis, algorithm 5).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Reduce(Vector128<ulong> low, Vector128<ulong> middle, Vector128<ulong> high)
    {
        Vector128<uint> lo = (low ^ Sse2.ShiftLeftLogical128BitLane(middle, 8)).AsUInt32();
        Vector128<uint> hi = (high ^ Sse2.ShiftRightLogical128BitLane(middle, 8)).AsUInt32();

        // [hi:lo] <<= 1
        Vector128<uint> carryLo = Sse2.ShiftRightLogical(lo, 31);
        Vector128<uint> carryHi = Sse2.ShiftRightLogical(hi, 31);
        lo = Sse2.ShiftLeftLogical(lo, 1);
        hi = Sse2.ShiftLeftLogical(hi, 1);
        Vector128<uint> across = Sse2.ShiftRightLogical128BitLane(carryLo, 12);
        carryHi = Sse2.ShiftLeftLogical128BitLane(carryHi, 4);
        carryLo = Sse2.ShiftLeftLogical128BitLane(carryLo, 4);
        lo |= carryLo;
        hi |= carryHi | across;

        // First phase of the reduction.
        Vector128<uint> t = Sse2.ShiftLeftLogical(lo, 31) ^ Sse2.ShiftLeftLogical(lo, 30) ^ Sse2.ShiftLeftLogical(lo, 25);
        Vector128<uint> spill = Sse2.ShiftRightLogical128BitLane(t, 4);
        lo ^= Sse2.ShiftLeftLogical128BitLane(t, 12);

        // Second phase.
        Vector128<uint> u = Sse2.ShiftRightLogical(lo, 1) ^ Sse2.ShiftRightLogical(lo, 2) ^ Sse2.ShiftRightLogical(lo, 7) ^ spill;
        lo ^= u;
        return (hi ^ lo).AsByte();
    }

    /// <summary>FIPS-197 SubWord through AESENCLAST: with the word in all four columns ShiftRows moves nothing, so the first column is S-box(word).</summary>
    private static uint SubWord(uint word) =>
        AesNi.EncryptLast(Vector128.Create(word).AsByte(), Vector128<byte>.Zero).AsUInt32().ToScalar();
}
