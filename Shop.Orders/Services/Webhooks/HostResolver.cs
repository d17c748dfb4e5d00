using System.Net;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// Resolves a webhook target's host name. DNS is not the Shop's infrastructure, so the tests replace it (a resolver
/// that never answers) to show that every resolution has its own time budget. Its cancellation ends the wait at best,
/// not the lookup: on Linux .NET cannot call off getaddrinfo, so callers bound the wait themselves (WaitAsync).
/// </summary>
public class HostResolver
{
    public virtual Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Dns.GetHostAddressesAsync(host, ct);
}
