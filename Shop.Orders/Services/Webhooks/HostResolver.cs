using System.Net;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// Resolves a webhook target's host name. DNS is not the Shop's infrastructure, so the tests replace it (a resolver
/// that never answers) to show that every resolution has its own time budget.
/// </summary>
public class HostResolver
{
    public virtual Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Dns.GetHostAddressesAsync(host, ct);
}
