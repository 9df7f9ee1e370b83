using System.Net.Sockets;
using Rumor.Core;

namespace Rumor.Transport;

/// <summary>
/// The transport could not bind its UDP socket or TCP listener. The message names the address and
/// the reason in words an operator can act on ("127.0.0.1:7946 is already in use ...").
/// </summary>
public sealed class TransportBindException : IOException
{
    /// <summary>Creates the exception.</summary>
    public TransportBindException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public TransportBindException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the socket error behind it.</summary>
    public TransportBindException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="address"/> from the socket error.</summary>
    public TransportBindException(NodeAddress address, string protocol, SocketException innerException)
        : base(Describe(address, protocol, innerException), innerException)
    {
        Address = address;
        SocketError = innerException?.SocketErrorCode ?? SocketError.SocketError;
    }

    /// <summary>The address we tried to bind.</summary>
    public NodeAddress Address { get; }

    /// <summary>The socket error behind the failure.</summary>
    public SocketError SocketError { get; }

    /// <summary>True when another socket already holds the address.</summary>
    public bool IsAddressInUse => SocketError == SocketError.AddressAlreadyInUse;

    private static string Describe(NodeAddress address, string protocol, SocketException? error) => error?.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => $"{address} is already in use: another process holds its {protocol} port; pick another port or stop that process.",
        SocketError.AddressNotAvailable => $"cannot bind {address}: the address is not assigned to any interface of this host.",
        SocketError.AccessDenied => $"cannot bind {address}: permission denied (ports below 1024 need privileges).",
        _ => $"cannot bind {address} ({protocol}): {error?.Message}",
    };
}
