using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Rumor.Core;

namespace Rumor.Hosting;

/// <summary>
/// A seed given as a DNS name, <c>dns:NAME[:PORT]</c> (port 7946 when left out): every A and AAAA
/// record of the name is a seed. The name is resolved at the first join and again whenever the
/// node has to rejoin (it is alone, or an address of the name belongs to no member it knows: a
/// Kubernetes headless Service, a round-robin name in front of the cluster). Resolution goes
/// through the system resolver (<see cref="Dns"/>: <c>/etc/resolv.conf</c>, <c>/etc/hosts</c>),
/// so it honours the host's search domains.
/// </summary>
/// <param name="Host">The DNS name.</param>
/// <param name="Port">The gossip port of the members behind the name.</param>
public readonly record struct DnsSeed(string Host, int Port)
{
    /// <summary>What a DNS seed starts with.</summary>
    public const string Prefix = "dns:";

    /// <summary>The port when the seed names none.</summary>
    public const int DefaultPort = 7946;

    /// <summary>True when <paramref name="text"/> is meant as a DNS seed (starts with <see cref="Prefix"/>, any case).</summary>
    public static bool IsDnsSeed([NotNullWhen(true)] string? text) =>
        text is not null && text.TrimStart().StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses <c>dns:NAME[:PORT]</c>; false with the reason in <paramref name="problem"/> when it is not one.</summary>
    public static bool TryParse(string? text, out DnsSeed seed, [NotNullWhen(false)] out string? problem)
    {
        seed = default;
        if (!IsDnsSeed(text))
        {
            problem = "it does not start with 'dns:'";
            return false;
        }

        string rest = text.Trim()[Prefix.Length..];
        string host = rest;
        int port = DefaultPort;
        int colon = rest.LastIndexOf(':');
        if (colon >= 0)
        {
            host = rest[..colon];
            string portText = rest[(colon + 1)..];
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
            {
                problem = $"its port '{portText}' is not a number from 1 to 65535";
                return false;
            }
        }

        host = host.TrimEnd('.');
        if (!IsHostName(host, out problem))
        {
            return false;
        }

        seed = new DnsSeed(host.ToLowerInvariant(), port);
        return true;
    }

    /// <summary>As <see cref="TryParse"/>, throwing a <see cref="FormatException"/> that says what is wrong.</summary>
    public static DnsSeed Parse(string text) =>
        TryParse(text, out DnsSeed seed, out string? problem) ? seed : throw new FormatException($"'{text}' is not a DNS seed (dns:NAME[:PORT]): {problem}.");

    /// <summary>
    /// Every address of the name (A and AAAA records), with the seed's port, in the resolver's order,
    /// without duplicates. <paramref name="family"/>, when given, keeps only addresses of that family
    /// if the name has any (a node bound to IPv4 cannot reach an IPv6 seed). A name that does not
    /// resolve yields nothing (the caller retries later).
    /// </summary>
    public async Task<IReadOnlyList<NodeAddress>> ResolveAsync(AddressFamily? family = null, Func<string, CancellationToken, Task<IPAddress[]>>? resolver = null, CancellationToken cancellationToken = default)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await (resolver ?? Dns.GetHostAddressesAsync)(Host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            return [];
        }

        IEnumerable<IPAddress> chosen = addresses;
        if (family is { } wanted && addresses.Any(address => address.AddressFamily == wanted))
        {
            chosen = addresses.Where(address => address.AddressFamily == wanted);
        }

        int port = Port;
        return [.. chosen.Select(address => NodeAddress.From(address, port)).Distinct()];
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Host}:{Port}");

    private static bool IsHostName(string host, [NotNullWhen(false)] out string? problem)
    {
        if (host.Length == 0)
        {
            problem = "the name is empty";
            return false;
        }

        if (host.Length > 253)
        {
            problem = "the name is longer than 253 characters";
            return false;
        }

        foreach (string label in host.Split('.'))
        {
            if (label.Length is 0 or > 63)
            {
                problem = $"'{host}' has an empty label or one longer than 63 characters";
                return false;
            }

            if (label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                problem = $"'{host}' is not a host name (letters, digits, '-' and '_' in dot-separated labels)";
                return false;
            }
        }

        problem = null;
        return true;
    }
}
