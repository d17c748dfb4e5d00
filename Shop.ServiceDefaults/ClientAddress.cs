using System.Net;
using System.Net.Sockets;

namespace Shop.ServiceDefaults;

/// <summary>
/// The unit abuse limits count a client by (the gateway's rate limits, Users' sign-in throttle): an IPv4
/// address, or an IPv6 /64. One subscriber is usually given a whole /64 and can pick any address in it, so
/// counting single IPv6 addresses would give such a client billions of fresh budgets.
/// </summary>
public static class ClientAddress
{
    /// <summary><c>203.0.113.7</c>, <c>2001:db8:1:2::/64</c>, or <c>unknown</c> when there is no address.</summary>
    public static string Key(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }
        return address.ToString();
    }
}
