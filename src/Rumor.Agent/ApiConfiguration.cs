using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Rumor.Agent;

/// <summary>
/// Reads <see cref="ApiSettings"/> from the agent's merged configuration (file, <c>RUMOR_*</c>
/// environment, flags). Keys: <c>Token</c>, <c>ReadToken</c>, <c>TokenFile</c>,
/// <c>ReadTokenFile</c>, <c>TlsCertificate</c>, <c>TlsKey</c>, <c>TlsPassword</c>,
/// <c>HttpAllowedHosts</c>, <c>HttpRateLimit</c>, <c>HttpRateBurst</c>, <c>HttpBodyMaxBytes</c>,
/// <c>HttpBodyGraceSeconds</c>, <c>StreamSubscribersMax</c>, <c>StreamQueueMax</c>, <c>StreamQueueMaxBytes</c>,
/// <c>MemoryTrimSlackBytes</c>. Every mistake
/// is an <see cref="AgentConfigurationException"/> naming the key.
/// </summary>
public static class ApiConfiguration
{
    /// <summary>The shortest token accepted: a guessable token is no protection (<c>rumor keygen</c> prints 44 characters).</summary>
    public const int TokenMinLength = 16;

    /// <summary>Reads the API's keys from <paramref name="configuration"/>.</summary>
    public static ApiSettings Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string? token = Token(configuration, "Token", "TokenFile");
        string? readToken = Token(configuration, "ReadToken", "ReadTokenFile");
        if (token is not null && token == readToken)
        {
            throw new AgentConfigurationException("ReadToken is the same as Token: a read-only token must differ from the read-write one.");
        }

        string? certificate = NonEmpty(configuration["TlsCertificate"]);
        string? key = NonEmpty(configuration["TlsKey"]);
        if (certificate is not null && !File.Exists(certificate))
        {
            throw new AgentConfigurationException($"TlsCertificate {Path.GetFullPath(certificate)} does not exist.");
        }

        if (key is not null && certificate is null)
        {
            throw new AgentConfigurationException("TlsKey is set without TlsCertificate: give the certificate file too.");
        }

        if (key is not null && !File.Exists(key))
        {
            throw new AgentConfigurationException($"TlsKey {Path.GetFullPath(key)} does not exist.");
        }

        return new ApiSettings
        {
            Token = token,
            ReadToken = readToken,
            TlsCertificateFile = certificate,
            TlsKeyFile = key,
            TlsCertificatePassword = NonEmpty(configuration["TlsPassword"]),
            AllowedHosts = List(configuration.GetSection("HttpAllowedHosts")),
            RequestsPerSecond = Int(configuration, "HttpRateLimit", ApiSettings.DefaultRequestsPerSecond, 0, 1_000_000),
            RequestBurst = Int(configuration, "HttpRateBurst", 0, 0, 1_000_000),
            BodyMaxBytes = Int(configuration, "HttpBodyMaxBytes", ApiSettings.DefaultBodyMaxBytes, 1024, 64 * 1024 * 1024),
            BodyGraceSeconds = Int(configuration, "HttpBodyGraceSeconds", ApiSettings.DefaultBodyGraceSeconds, 2, 3600),
            StreamSubscribersMax = Int(configuration, "StreamSubscribersMax", ApiSettings.DefaultStreamSubscribersMax, 1, 100_000),
            StreamQueueMax = Int(configuration, "StreamQueueMax", ApiSettings.DefaultStreamQueueMax, 1, 1_000_000),
            StreamQueueMaxBytes = Int(configuration, "StreamQueueMaxBytes", ApiSettings.DefaultStreamQueueMaxBytes, 64 * 1024, 1024 * 1024 * 1024),
            MemoryTrimSlackBytes = Int(configuration, "MemoryTrimSlackBytes", ApiSettings.DefaultMemoryTrimSlackBytes, 0, 1024 * 1024 * 1024),
        };
    }

    /// <summary>Checks a token's form: long enough, and only visible ASCII (it travels in a header).</summary>
    public static string CheckToken(string token, string key)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length < TokenMinLength)
        {
            throw new AgentConfigurationException($"{key} is {token.Length} characters long; use at least {TokenMinLength} (`rumor keygen` prints a suitable one).");
        }

        if (token.Any(c => c is <= ' ' or > '~'))
        {
            throw new AgentConfigurationException($"{key} holds a space, a control or a non-ASCII character; a token is visible ASCII (it travels in the Authorization header).");
        }

        return token;
    }

    private static string? Token(IConfiguration configuration, string key, string fileKey)
    {
        string? inline = NonEmpty(configuration[key]);
        string? file = NonEmpty(configuration[fileKey]);
        if (inline is not null && file is not null)
        {
            throw new AgentConfigurationException($"Both {key} and {fileKey} are set; give one.");
        }

        if (file is not null)
        {
            string path = Path.GetFullPath(file);
            try
            {
                inline = File.ReadAllText(path).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new AgentConfigurationException($"{fileKey} {path} cannot be read: {e.Message}", e);
            }

            if (inline.Length == 0)
            {
                throw new AgentConfigurationException($"{fileKey} {path} is empty.");
            }

            key = fileKey;
        }

        return inline is null ? null : CheckToken(inline.Trim(), key);
    }

    private static int Int(IConfiguration configuration, string key, int fallback, int min, int max)
    {
        string? text = NonEmpty(configuration[key]);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new AgentConfigurationException($"{key} '{text}' is not a whole number between {min.ToString("N0", CultureInfo.InvariantCulture)} and {max.ToString("N0", CultureInfo.InvariantCulture)}.");
        }

        return value;
    }

    private static string[] List(IConfigurationSection section) =>
        section.Value is { } scalar
            ? scalar.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [.. section.GetChildren().Select(child => child.Value).OfType<string>().Select(v => v.Trim()).Where(v => v.Length > 0)];

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
