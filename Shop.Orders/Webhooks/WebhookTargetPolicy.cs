using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Shop.Orders.Webhooks;

/// <summary>
/// SSRF guard for webhook URLs: http(s) only, and — outside Development — never a host that resolves to
/// loopback, private, link-local, CGNAT, multicast or unspecified addresses. Checked when a subscription is
/// created and again at connect time (the socket connects only to an address that passed), so DNS
/// rebinding cannot sneak past.
/// </summary>
public sealed class WebhookTargetPolicy(IOptions<WebhookOptions> options, IHostEnvironment environment)
{
    private readonly bool _blockPrivate = options.Value.BlockPrivateNetworks ?? !environment.IsDevelopment();
    private readonly bool _allowLoopback = options.Value.AllowLoopback ?? environment.IsDevelopment();

    public static bool IsWellFormed(string url, out Uri? uri) =>
        Uri.TryCreate(url, UriKind.Absolute, out uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host)
        && string.IsNullOrEmpty(uri.UserInfo);

    public async Task<string?> CheckAsync(Uri uri, CancellationToken ct)
    {
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(uri.IdnHost, ct);
        }
        catch (SocketException)
        {
            return _blockPrivate ? "The host name does not resolve." : null;
        }
        var refused = addresses.FirstOrDefault(a => !IsAllowed(a));
        return refused is null ? null : "The URL points to a private, loopback or otherwise internal address.";
    }

    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address))
        {
            return _allowLoopback || !_blockPrivate;
        }
        return !_blockPrivate || !IsInternal(address);
    }

    internal static bool IsInternal(IPAddress address)
    {
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return true;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 10
                || b[0] == 0
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
                || b[0] >= 224;
        }
        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal;
    }

    /// <summary>The connect step of the webhook HttpClient: resolves, filters, then connects.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException("Webhook target refused: internal address.");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
