namespace Shop.Orders.Services;

/// <summary>The <c>Orders</c> configuration section: limits against stock hoarding, and housekeeping.</summary>
public sealed class OrdersOptions
{
    /// <summary>A pending order older than this expires and its stock goes back (there is no payment step to wait for).</summary>
    public TimeSpan PendingExpiry { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often the expiry job looks for orders past their deadline.</summary>
    public TimeSpan ExpirySweepInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Pending orders one account may hold at once; past it placing answers 409.</summary>
    public int MaxPendingOrdersPerUser { get; set; } = 10;

    /// <summary>Units (the sum of every line's qty) in one order; past it placing answers 422.</summary>
    public int MaxUnitsPerOrder { get; set; } = 100;

    /// <summary>
    /// How long Users' "this account is active" answer is reused for the account's orders while its
    /// security stamp stays the same (<see cref="ActiveAccounts"/>); zero asks Users for every order.
    /// </summary>
    public TimeSpan ActiveAccountCacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The stock release worker's fallback scan. A release made due now wakes it through the database's
    /// notification and a backed-off one wakes it when due, so this only bounds what a lost notification could delay.
    /// </summary>
    public TimeSpan StockReleasePollInterval { get; set; } = TimeSpan.FromSeconds(30);

    public RetentionOptions Retention { get; set; } = new();
}

/// <summary><c>Orders:Retention</c>: how long finished rows are kept before the maintenance job deletes them.</summary>
public sealed class RetentionOptions
{
    /// <summary>Delivered and failed webhook deliveries (the outbox row is the delivery log) are deleted this long after their event.</summary>
    public TimeSpan WebhookDeliveries { get; set; } = TimeSpan.FromDays(14);

    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Rows deleted per statement, so a large backlog never holds long locks or one huge transaction.</summary>
    public int BatchSize { get; set; } = 1000;
}
