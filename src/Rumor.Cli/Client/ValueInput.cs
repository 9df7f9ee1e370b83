using System.Text;

namespace Rumor.Cli.Client;

/// <summary>
/// Where a key's value or an event's payload comes from: the command line, a file (<c>--file PATH</c>)
/// or standard input (<c>-</c>), and how it goes into the API's JSON: text that is valid UTF-8 as
/// <c>value</c>, anything else as <c>valueBase64</c> (the pair the API defines), byte for byte.
/// </summary>
internal static class ValueInput
{
    /// <summary>
    /// A bound on what the CLI reads into memory from a file or stdin. Far above any value the agent
    /// accepts (it refuses oversize values with a clear 400): this only stops a mistaken
    /// <c>--file /dev/zero</c> from eating the machine.
    /// </summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The bytes from exactly one source: <paramref name="inline"/> (the positional; <c>-</c> reads
    /// stdin) or the <c>--file</c> option (<c>-</c> reads stdin too). Null when neither is given and
    /// <paramref name="required"/> is false.
    /// </summary>
    public static async Task<byte[]?> ReadAsync(ClientContext context, string? inline, string what, bool required)
    {
        string? file = context.Args.Get("file");
        if (inline is not null && file is not null)
        {
            throw new UsageException($"give the {what} either on the command line or with --file, not both.");
        }

        if (inline is null && file is null)
        {
            return required ? throw new UsageException($"no {what}: give it as an argument, with --file PATH, or '-' to read standard input.") : null;
        }

        if (inline is not null && inline != "-")
        {
            return Encoding.UTF8.GetBytes(inline);
        }

        if (inline == "-" || file == "-")
        {
            Stream stdin = context.Environment.OpenStandardInput();
            await using (stdin.ConfigureAwait(false))
            {
                return await ReadBoundedAsync(stdin, "standard input", context.Stop).ConfigureAwait(false);
            }
        }

        try
        {
            FileStream stream = new(file!, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                return await ReadBoundedAsync(stream, file!, context.Stop).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--file: cannot read '{file}': {e.Message}");
        }
    }

    /// <summary>
    /// The bytes as the API's pair (<c>value</c> / <c>valueBase64</c>, <c>payload</c> / <c>payloadBase64</c>):
    /// valid UTF-8 as text, anything else as base64, byte for byte.
    /// </summary>
    public static (string? Text, string? Base64) Split(byte[] bytes)
    {
        try
        {
            return (StrictUtf8.GetString(bytes), null);
        }
        catch (DecoderFallbackException)
        {
            return (null, Convert.ToBase64String(bytes));
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream stream, string source, CancellationToken stop)
    {
        using MemoryStream buffer = new();
        byte[] chunk = new byte[81920];
        while (true)
        {
            int read = await stream.ReadAsync(chunk, stop).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.ToArray();
            }

            if (buffer.Length + read > MaxBytes)
            {
                throw new UsageException($"{source} holds more than {MaxBytes / (1024 * 1024)} MiB; values that large do not belong in gossiped state.");
            }

            buffer.Write(chunk, 0, read);
        }
    }
}
