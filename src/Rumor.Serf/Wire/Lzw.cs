namespace Rumor.Serf.Wire;

/// <summary>
/// Go's <c>compress/lzw</c> with LSB bit order and 8-bit literals, the only algorithm (Algo 0) of
/// memberlist's compress message (serf-wire.md 3.6). .NET has no LZW, so this is a port of the
/// format written from the description: codes of 9..12 bits packed least-significant-bit first;
/// 256 clears the table, 257 ends the stream, new entries start at 258. The encoder emits a clear
/// code first and resets the table when the next code would be 4095, exactly as Go does, so its
/// output is byte-identical; the decoder accepts any valid stream and refuses invalid codes and
/// output beyond a caller-given bound (a decompression bomb is an error, not an allocation).
/// </summary>
public static class Lzw
{
    private const int Clear = 256;
    private const int Eof = 257;
    private const int MaxWidth = 12;
    private const int MaxCode = (1 << MaxWidth) - 1;

    /// <summary>Compresses <paramref name="input"/> exactly as Go's <c>lzw.NewWriter(w, lzw.LSB, 8)</c>.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> input)
    {
        BitWriter output = new(input.Length / 2 + 16);
        int width = 9;
        int hi = Eof;
        int overflow = 1 << width;
        Dictionary<int, int> table = new(1024);
        output.Write(Clear, width);
        if (input.IsEmpty)
        {
            output.Write(Eof, width);
            return output.Finish();
        }

        int code = input[0];
        for (int i = 1; i < input.Length; i++)
        {
            int literal = input[i];
            int key = (code << 8) | literal;
            if (table.TryGetValue(key, out int existing))
            {
                code = existing;
                continue;
            }

            output.Write(code, width);
            code = literal;
            if (IncrementHi(ref hi, ref width, ref overflow, output, table))
            {
                continue;
            }

            table[key] = hi;
        }

        output.Write(code, width);
        IncrementHi(ref hi, ref width, ref overflow, output, table);
        output.Write(Eof, width);
        return output.Finish();
    }

    // Go's incHi: returns true when the codes ran out and the table was reset (a clear code written).
    private static bool IncrementHi(ref int hi, ref int width, ref int overflow, BitWriter output, Dictionary<int, int> table)
    {
        hi++;
        if (hi == overflow)
        {
            width++;
            overflow <<= 1;
        }

        if (hi == MaxCode)
        {
            output.Write(Clear, width);
            width = 9;
            hi = Eof;
            overflow = 1 << width;
            table.Clear();
            return true;
        }

        return false;
    }

    /// <summary>
    /// Decompresses a Go LZW stream. Returns false when the stream holds an invalid code, ends without
    /// the EOF code, or would produce more than <paramref name="maxOutputBytes"/>; never throws.
    /// </summary>
    public static bool TryDecompress(ReadOnlySpan<byte> input, int maxOutputBytes, out byte[] output)
    {
        output = [];
        List<byte> result = new(Math.Min(maxOutputBytes, input.Length * 3 + 16));
        ushort[] prefix = new ushort[1 << MaxWidth];
        byte[] suffix = new byte[1 << MaxWidth];
        byte[] scratch = new byte[1 << MaxWidth];
        int width = 9;
        int hi = Eof;
        int overflow = 1 << width;
        int last = -1;
        uint bits = 0;
        int nBits = 0;
        int position = 0;
        while (true)
        {
            while (nBits < width)
            {
                if (position >= input.Length)
                {
                    return false; // no EOF code: truncated
                }

                bits |= (uint)input[position++] << nBits;
                nBits += 8;
            }

            int code = (int)(bits & ((1u << width) - 1));
            bits >>= width;
            nBits -= width;

            if (code == Clear)
            {
                width = 9;
                hi = Eof;
                overflow = 1 << width;
                last = -1;
                continue;
            }

            if (code == Eof)
            {
                output = [.. result];
                return true;
            }

            int first;
            if (code < Clear)
            {
                if (result.Count >= maxOutputBytes)
                {
                    return false;
                }

                result.Add((byte)code);
                first = code;
            }
            else if (code <= hi)
            {
                if (code == hi && last < 0)
                {
                    return false; // refers to an entry that does not exist
                }

                int i = scratch.Length - 1;
                int c = code;
                if (code == hi)
                {
                    // KwKwK: the previous string followed by its own first byte.
                    c = last;
                    while (c >= Clear)
                    {
                        c = prefix[c];
                    }

                    scratch[i--] = (byte)c;
                    c = last;
                }

                while (c >= Clear)
                {
                    if (i < 0)
                    {
                        return false;
                    }

                    scratch[i--] = suffix[c];
                    c = prefix[c];
                }

                if (i < 0)
                {
                    return false;
                }

                scratch[i] = (byte)c;
                first = c;
                int length = scratch.Length - i;
                if (result.Count + length > maxOutputBytes)
                {
                    return false;
                }

                for (int k = i; k < scratch.Length; k++)
                {
                    result.Add(scratch[k]);
                }
            }
            else
            {
                return false; // a code beyond the table
            }

            if (last >= 0)
            {
                suffix[hi] = (byte)first;
                prefix[hi] = (ushort)last;
            }

            last = code;
            hi++;
            if (hi >= overflow)
            {
                if (width == MaxWidth)
                {
                    last = -1;
                    hi--;
                }
                else
                {
                    width++;
                    overflow = 1 << width;
                }
            }
        }
    }

    private sealed class BitWriter(int capacity)
    {
        private readonly List<byte> _bytes = new(capacity);
        private ulong _bits;
        private int _count;

        public void Write(int code, int width)
        {
            _bits |= (ulong)code << _count;
            _count += width;
            while (_count >= 8)
            {
                _bytes.Add((byte)_bits);
                _bits >>= 8;
                _count -= 8;
            }
        }

        public byte[] Finish()
        {
            if (_count > 0)
            {
                _bytes.Add((byte)_bits);
            }

            return [.. _bytes];
        }
    }
}
