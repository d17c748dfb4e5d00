using System.Diagnostics.Metrics;

namespace Shop.Orders.Services;

/// <summary>The background jobs' work, on the <c>Shop.Orders</c> meter (the dashboard's Metrics tab).</summary>
public sealed class OrdersMetrics
{
    public const string MeterName = "Shop.Orders";

    private readonly Counter<long> _expired;
    private readonly Counter<long> _purged;
    private readonly Counter<long> _capRefusals;

    public OrdersMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _expired = meter.CreateCounter<long>("shop.orders.expired", description: "Pending orders expired and their stock released");
        _purged = meter.CreateCounter<long>("shop.orders.retention.purged", description: "Rows deleted by the retention job, per table");
        _capRefusals = meter.CreateCounter<long>("shop.orders.cap_refusals", description: "Placements refused by a hoarding cap, per cap");
    }

    public void Expired(int count) => _expired.Add(count);

    public void Purged(string table, int count) => _purged.Add(count, new KeyValuePair<string, object?>("table", table));

    public void CapRefused(string cap) => _capRefusals.Add(1, new KeyValuePair<string, object?>("cap", cap));
}
