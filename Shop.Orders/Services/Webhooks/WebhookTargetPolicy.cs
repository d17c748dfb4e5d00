using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// SSRF guard for webhook URLs: http(s) only, and — outside Development — only https, only ports 80 and
/// 443, and never a host that resolves to anything but global unicast (loopback, private, CGNAT,
/// link-local, documentation, benchmarking, NAT64, 6to4, multicast, reserved …). Checked when a
/// subscription is created and again at connect time (the socket connects only to an address that
/// passed), so DNS rebinding cannot sneak past.
/// </summary>
public sealed class WebhookTargetPolicy
{
    private readonly bool _blockPrivate;
    private readonly bool _allowLoopback;
    private readonly bool _requireHttps;
    private readonly IReadOnlyCollection<int>? _allowedPorts; // null: any
    private readonly HostResolver _resolver;
    private readonly TimeSpan _resolveTimeout;
    private readonly ILogger _logger;

    public WebhookTargetPolicy(IOptions<WebhookOptions> options, IHostEnvironment environment, HostResolver resolver, ILogger<WebhookTargetPolicy> logger)
    {
        _resolver = resolver;
        _logger = logger;
        var o = options.Value;
        _resolveTimeout = o.ResolveTimeout;
        var development = environment.IsDevelopment();
        _blockPrivate = o.BlockPrivateNetworks ?? !development;
        _allowLoopback = o.AllowLoopback ?? development;
        _requireHttps = o.RequireHttps ?? !development;
        _allowedPorts = o.AllowedPorts.Count > 0 ? o.AllowedPorts : development ? null : [80, 443];
    }

    /// <summary>IPv4 ranges that are not global unicast (IANA special-purpose registry, RFC 6890 and successors).</summary>
    private static readonly IPNetwork[] NonGlobalV4 =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
            "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        }.Select(IPNetwork.Parse),
    ];

    /// <summary>Global unicast IPv6 is 2000::/3; inside it these are not (Teredo and other IETF assignments, documentation, 6to4).</summary>
    private static readonly IPNetwork GlobalUnicastV6 = IPNetwork.Parse("2000::/3");

    private static readonly IPNetwork[] NonGlobalInsideV6 = [.. new[] { "2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20" }.Select(IPNetwork.Parse)];

    /// <summary>The longest host name DNS holds (RFC 1035), as text without a final dot.</summary>
    private const int MaxHostNameLength = 253;

    /// <summary>
    /// An absolute http(s) URL without user info whose host DNS could hold: .NET's parser takes longer host names,
    /// on which the resolver throws (not the SocketException of a name that does not resolve).
    /// </summary>
    public static bool IsWellFormed(string url, [NotNullWhen(true)] out Uri? uri) =>
        Uri.TryCreate(url, UriKind.Absolute, out uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host)
        && string.IsNullOrEmpty(uri.UserInfo) && uri.IdnHost.TrimEnd('.').Length <= MaxHostNameLength;

    /// <summary>Why the URL may not be a target, as an instruction to the admin; null when it may.</summary>
    public async Task<string?> CheckAsync(Uri uri, CancellationToken ct)
    {
        IPAddress[] addresses;
        // The wait is bounded here, not left to the resolver: .NET's does not end a lookup when cancelled (getaddrinfo
        // cannot be called off), so the admin's request would wait for the OS resolver's own timeout. The lookup
        // itself runs on to that timeout on a pool thread; its outcome is dropped.
        using var resolving = CancellationTokenSource.CreateLinkedTokenSource(ct);
        resolving.CancelAfter(_resolveTimeout);
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal)
                ? [literal]
                : await _resolver.ResolveAsync(uri.IdnHost, resolving.Token).WaitAsync(resolving.Token);
        }
        catch (SocketException)
        {
            return _blockPrivate ? "The host name does not resolve." : null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Refused even where private targets are allowed: an unchecked name would be accepted unseen. A warning,
            // not an error: the resolver is someone else's, and the admin is told.
            _logger.LogWarning("Webhook target host {Host} did not resolve within {Timeout}", uri.IdnHost, _resolveTimeout);
            return $"The host name {uri.IdnHost} did not resolve within {_resolveTimeout.TotalSeconds:0.###} s; check the name, or try again if its DNS is having trouble.";
        }
        if (!IsExemptLoopback(addresses))
        {
            if (_requireHttps && uri.Scheme != Uri.UriSchemeHttps)
            {
                return "Use an https:// URL; plain http is refused outside Development.";
            }
            if (!IsAllowedPort(uri.Port))
            {
                return $"Use port 443 or 80; port {uri.Port} is refused so webhooks cannot be used to probe other services.";
            }
        }
        var refused = addresses.FirstOrDefault(a => !IsAllowed(a));
        return refused is null ? null : "The URL points to a private, loopback or otherwise internal (not global unicast) address.";
    }

    private bool IsAllowedPort(int port) => _allowedPorts is null || _allowedPorts.Contains(port);

    /// <summary>A developer's or test's own receiver: loopback, allowed explicitly, exempt from the port and scheme rules.</summary>
    private bool IsExemptLoopback(IReadOnlyCollection<IPAddress> addresses) =>
        _blockPrivate && _allowLoopback && addresses.Count > 0 && addresses.All(IPAddress.IsLoopback);

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
        return !_blockPrivate || IsGlobalUnicast(address);
    }

    internal static bool IsGlobalUnicast(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => !NonGlobalV4.Any(n => n.Contains(address)),
            // NAT64 (64:ff9b::/96, 64:ff9b:1::/48), IPv4-compatible, ULA, link- and site-local, multicast all lie outside 2000::/3.
            AddressFamily.InterNetworkV6 => GlobalUnicastV6.Contains(address) && !NonGlobalInsideV6.Any(n => n.Contains(address)),
            _ => false,
        };
    }

    /// <summary>The connect step of the webhook HttpClient: resolves, filters, then connects.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await _resolver.ResolveAsync(host, ct).WaitAsync(ct);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException("Webhook target refused: internal address.");
        }
        if (!IsExemptLoopback(allowed) && !IsAllowedPort(context.DnsEndPoint.Port))
        {
            throw new HttpRequestException("Webhook target refused: port not allowed.");
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
