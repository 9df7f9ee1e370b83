using System.Net;

namespace Rumor.Core.Tests;

public class NodeAddressTests
{
    [Theory]
    [InlineData("10.0.0.1:7946")]
    [InlineData("127.0.0.1:1")]
    [InlineData("255.255.255.255:65535")]
    [InlineData("0.0.0.1:80")]
    public void Parses_and_formats_IPv4(string text)
    {
        NodeAddress address = NodeAddress.Parse(text);
        Assert.False(address.IsIPv6);
        Assert.Equal(4, address.AddressLength);
        Assert.Equal(text, address.ToString());
        Assert.Equal(IPEndPoint.Parse(text), address.ToIPEndPoint());
    }

    [Theory]
    [InlineData("[::1]:7946", "[::1]:7946")]
    [InlineData("[fe80::1:2]:80", "[fe80::1:2]:80")]
    [InlineData("[2001:DB8:0:0:0:0:0:1]:443", "[2001:db8::1]:443")]
    public void Parses_and_formats_IPv6_in_brackets(string text, string formatted)
    {
        NodeAddress address = NodeAddress.Parse(text);
        Assert.True(address.IsIPv6);
        Assert.Equal(16, address.AddressLength);
        Assert.Equal(formatted, address.ToString());
        Assert.Equal(address, NodeAddress.Parse(formatted));
    }

    [Fact]
    public void Parse_and_components_agree()
    {
        NodeAddress address = NodeAddress.Parse("192.168.1.10:7946");
        Assert.Equal(7946, address.Port);
        Assert.Equal(new NodeAddress(0xC0A8010A, 7946), address);
        Span<byte> bytes = stackalloc byte[4];
        address.WriteAddressBytes(bytes);
        Assert.Equal("C0A8010A", Convert.ToHexString(bytes));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.2.3.4")]
    [InlineData("1.2.3.4:70000")]
    [InlineData("1.2.3.4:-1")]
    [InlineData("1.2.3.4:port")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("::1")]
    [InlineData("[::1]")]
    [InlineData("2001:db8::1:7946")]
    [InlineData("localhost:7946")]
    [InlineData("1.2.3.4.5:80")]
    public void Rejects_bad_input(string? text)
    {
        Assert.False(NodeAddress.TryParse(text, out NodeAddress address));
        Assert.Equal(default, address);
        if (text is not null)
        {
            FormatException error = Assert.Throws<FormatException>(() => NodeAddress.Parse(text));
            Assert.Contains(text, error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("1.2.3:80")] // parsed as 1.2.0.3
    [InlineData("1:80")] // parsed as 0.0.0.1
    [InlineData("010.0.0.1:80")] // parsed as octal: 8.0.0.1
    [InlineData("0x7f.0.0.1:80")] // parsed as hex: 127.0.0.1
    [InlineData("4294967295:80")] // parsed as 255.255.255.255
    public void Rejects_non_canonical_IPv4_literals(string text)
    {
        // BUG (src/Rumor.Core/NodeAddress.cs, TryParse): IPEndPoint.TryParse accepts the legacy
        // inet_aton forms, so a seed written "010.000.000.001:7946" silently becomes 8.0.0.1:7946.
        // The doc promises "an IPv4 literal"; dotted-decimal with four parts is the only unambiguous
        // one (Go rejects leading zeros since 1.17 for this reason, CVE-2021-29923).
        Assert.False(NodeAddress.TryParse(text, out NodeAddress parsed), $"'{text}' was accepted as {parsed}");
    }

    [Fact]
    public void Equality_and_hash_code_cover_address_family_and_port()
    {
        NodeAddress a = NodeAddress.Parse("10.0.0.1:7946");
        Assert.Equal(a, NodeAddress.Parse("10.0.0.1:7946"));
        Assert.True(a == NodeAddress.Parse("10.0.0.1:7946"));
        Assert.Equal(a.GetHashCode(), NodeAddress.Parse("10.0.0.1:7946").GetHashCode());
        Assert.NotEqual(a, NodeAddress.Parse("10.0.0.1:7947"));
        Assert.NotEqual(a, NodeAddress.Parse("10.0.0.2:7946"));
        Assert.True(a != NodeAddress.Parse("10.0.0.2:7946"));

        // ::a00:1 has the same low 32 bits as 10.0.0.1 but is another address.
        NodeAddress v6 = NodeAddress.Parse("[::a00:1]:7946");
        Assert.NotEqual(a, v6);
        Assert.False(a.Equals((object)v6));
        Assert.True(a.Equals((object)NodeAddress.Parse("10.0.0.1:7946")));
    }

    [Fact]
    public void Orders_IPv4_before_IPv6_then_by_address_then_by_port()
    {
        NodeAddress[] expected =
        [
            NodeAddress.Parse("1.2.3.4:9"),
            NodeAddress.Parse("10.0.0.1:1"),
            NodeAddress.Parse("10.0.0.1:2"),
            NodeAddress.Parse("10.0.0.2:1"),
            NodeAddress.Parse("255.0.0.0:1"),
            NodeAddress.Parse("[::]:5"),
            NodeAddress.Parse("[::1]:1"),
            NodeAddress.Parse("[::1]:2"),
            NodeAddress.Parse("[fe80::1]:1"),
        ];
        NodeAddress[] shuffled = [.. expected.Reverse()];
        new Random(3).Shuffle(shuffled);
        Array.Sort(shuffled);
        Assert.Equal(expected, shuffled);
        Assert.True(expected[0] < expected[1]);
        Assert.True(expected[8] > expected[7]);
        Assert.True(expected[2] <= expected[2]);
        Assert.True(expected[2] >= expected[1]);
        Assert.Equal(0, expected[3].CompareTo(NodeAddress.Parse("10.0.0.2:1")));
    }

    [Fact]
    public void IPv4_mapped_IPv6_becomes_IPv4()
    {
        NodeAddress address = NodeAddress.From(IPAddress.Parse("::ffff:10.0.0.1"), 7946);
        Assert.False(address.IsIPv6);
        Assert.Equal(NodeAddress.Parse("10.0.0.1:7946"), address);
    }

    [Fact]
    public void From_rejects_ports_out_of_range()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NodeAddress.From(IPAddress.Loopback, 65536));
        Assert.Throws<ArgumentOutOfRangeException>(() => NodeAddress.From(IPAddress.Loopback, -1));
    }

    [Fact]
    public void FromBytes_round_trips_and_rejects_other_lengths()
    {
        byte[] v6 = Convert.FromHexString("20010DB8000000000000000000000001");
        NodeAddress address = NodeAddress.FromBytes(v6, 443);
        byte[] written = new byte[16];
        address.WriteAddressBytes(written);
        Assert.Equal(v6, written);
        Assert.Equal("[2001:db8::1]:443", address.ToString());
        Assert.Throws<ArgumentException>(() => NodeAddress.FromBytes(new byte[5], 1));
    }

    [Fact]
    public void Default_is_empty()
    {
        Assert.True(default(NodeAddress).IsEmpty);
        Assert.False(NodeAddress.Parse("0.0.0.0:1").IsEmpty);
    }
}
