using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Mvc;

namespace Shop.Gateway;

/// <summary>
/// The host a client names (Host, over HTTP/2 <c>:authority</c>), which the gateway sends on to the services as
/// X-Forwarded-Host and they take as the public host (their OpenAPI documents name it as their server). Kestrel takes host
/// characters at any length and any port number, so a Host of 20 KB under the header limit reached the services as it came.
/// The edge takes what a host can be: a DNS name (at most 255 bytes, labels of 1–63 letters, digits, '-' or '_', one
/// final dot allowed), an IPv4 address or a bracketed IPv6 address, then an optional port up to 65535.
/// </summary>
internal static class ClientHost
{
    public const int MaxNameBytes = 255;
    private const int MaxLabelBytes = 63;

    /// <summary>The problem to answer a request whose host is none, or null. No Host at all (HTTP/1.0) passes: nothing is sent on.</summary>
    public static ProblemDetails? Refusal(string host, bool fieldsOnly)
    {
        if (host.Length == 0 || IsHost(host))
        {
            return null;
        }
        return new ProblemDetails
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "Bad Request",
            Detail = $"The {(fieldsOnly ? ":authority" : "Host header")} is {host.Length} bytes and names no host: the Shop takes a host name "
                + $"of at most {MaxNameBytes} bytes (labels of letters, digits, '-' and '_' up to {MaxLabelBytes} bytes, between dots), an IPv4 address "
                + "or an IPv6 address in brackets, with an optional :port up to 65535. Send the host name of the Shop's address, as in the URL you open.",
        };
    }

    internal static bool IsHost(ReadOnlySpan<char> host)
    {
        ReadOnlySpan<char> port;
        if (host.StartsWith('['))
        {
            var end = host.IndexOf(']');
            if (end < 0 || !IPAddress.TryParse(host[1..end], out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }
            port = host[(end + 1)..];
        }
        else
        {
            var colon = host.IndexOf(':');
            var name = colon < 0 ? host : host[..colon];
            if (!IsDnsName(name))
            {
                return false;
            }
            port = colon < 0 ? [] : host[colon..];
        }
        // RFC 9110: port = *DIGIT, so "host:" is a host too.
        return port.IsEmpty || (port[0] == ':' && port.Length <= 6 && (port.Length == 1 || (int.TryParse(port[1..], System.Globalization.NumberStyles.None, null, out var number) && number <= 65535)));
    }

    // An IPv4 address is a name of digit labels.
    private static bool IsDnsName(ReadOnlySpan<char> name)
    {
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }
        if (name.IsEmpty || name.Length > MaxNameBytes)
        {
            return false;
        }
        foreach (var range in name.Split('.'))
        {
            var label = name[range];
            if (label.IsEmpty || label.Length > MaxLabelBytes || label.ContainsAnyExcept(LabelCharacters))
            {
                return false;
            }
        }
        return true;
    }

    private static readonly System.Buffers.SearchValues<char> LabelCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
}
