using Microsoft.AspNetCore.DataProtection;
using Shop.Orders;
using Shop.Orders.Services.Clients;
using Shop.Orders.Data;
using Shop.Orders.Services;
using Shop.Orders.Services.Webhooks;

var builder = WebApplication.CreateBuilder(args);
if (await builder.RunMigrationStepAsync<OrdersDbContext>(args, "ordersdb"))
{
    return;
}
builder.AddServiceDefaults();
// One message per setting, naming it: a zero interval would run a job's passes back to back against the database, a
// negative one throws out of the job and stops the host, a negative cache lifetime fails every order.
builder.AddStartupSettings<OrdersOptions>("Orders")
    .Validate(o => o.MaxPendingOrdersPerUser > 0, "Orders:MaxPendingOrdersPerUser must be 1 or more.")
    .Validate(o => o.MaxUnitsPerOrder > 0, "Orders:MaxUnitsPerOrder must be 1 or more.")
    .Validate(o => o.PendingExpiry > TimeSpan.Zero, "Orders:PendingExpiry must be more than zero.")
    .Validate(o => o.ExpirySweepInterval > TimeSpan.Zero, "Orders:ExpirySweepInterval must be more than zero (default 00:00:15).")
    .Validate(o => o.ActiveAccountCacheTtl >= TimeSpan.Zero, "Orders:ActiveAccountCacheTtl must be zero (ask Users for every order) or more (default 00:00:30).")
    .Validate(o => o.StockReleasePollInterval > TimeSpan.Zero, "Orders:StockReleasePollInterval must be more than zero.")
    .Validate(o => o.Retention.SweepInterval > TimeSpan.Zero, "Orders:Retention:SweepInterval must be more than zero (default 00:05:00).")
    .Validate(o => o.Retention.BatchSize > 0, "Orders:Retention:BatchSize must be 1 or more.")
    .Validate(o => o.Retention.WebhookDeliveries > TimeSpan.Zero, "Orders:Retention:WebhookDeliveries must be more than zero.");
// The database enforces the pending-orders cap (OrderPlacement.StoreAsync); each connection tells it the cap.
var pendingCap = builder.GetStartupSettings<OrdersOptions>("Orders").MaxPendingOrdersPerUser;
builder.AddShopDbContext<OrdersDbContext, WebApplicationBuilder>("ordersdb", new Dictionary<string, string>
{
    [OrderPlacement.PendingCapSetting] = pendingCap.ToString(System.Globalization.CultureInfo.InvariantCulture),
});
builder.AddShopRedis(databaseIndex: 1);
builder.AddShopAuthentication();
builder.AddShopOpenApi("Shop Orders API", "Orders priced and reserved by Inventory, their history, and signed webhooks for order events.", new Dictionary<string, string>
{
    ["Orders"] = "Place, list, read and change orders, and read an order's events",
    ["Webhooks"] = "Subscriptions to order events and their delivery log (admin)",
});
builder.AddServiceClients();

builder.Services.AddSingleton<OrdersMetrics>();
builder.Services.AddScoped<IdempotencyStore>();
builder.Services.AddScoped<StockReleases>();
builder.Services.AddScoped<OrderPlacement>();
builder.Services.AddSingleton<ActiveAccounts>();
builder.Services.AddScoped<OrderWorkflow>();
builder.Services.AddScoped<OrderReader>();
builder.Services.AddScoped<WebhookOutbox>();
builder.Services.AddScoped<OrderExpiry>();
builder.Services.AddSingleton<WebhookDispatchSignal>();
builder.Services.AddSingleton<StockReleaseSignal>();
builder.Services.AddHostedService<DatabaseNotificationListener>();
builder.Services.AddHostedService<StockReleaseWorker>();
builder.Services.AddHostedService<OrderExpiryWorker>();
builder.Services.AddHostedService<RetentionJob>();

// Webhook secrets are encrypted with Data Protection. The key ring lives in the Orders database so every
// replica reads the same keys, under one application name (the default, the content root, differs per host).
builder.Services.AddDataProtection().SetApplicationName("Shop.Orders").PersistKeysToDbContext<OrdersDbContext>()
    .ProtectKeysWithKeyRingKey(builder);
builder.Services.AddSingleton<WebhookSecrets>();
builder.Services.AddScoped<WebhookSubscriptions>();

builder.AddStartupSettings<WebhookOptions>("Webhooks")
    // A subscriber that times out on every attempt holds its lane's batch for ceil(BatchSize / MaxConcurrentPerSubscriber)
    // attempt timeouts; the lease must outlast that, or another replica claims the rows again mid-batch.
    .Validate(o => o.BatchSize > 0 && o.MaxConcurrentPerSubscriber > 0 && o.MaxSubscribersAtOnce > 0 && o.AttemptTimeout > TimeSpan.Zero && o.ResolveTimeout > TimeSpan.Zero
            && o.ClaimLease > o.AttemptTimeout * Math.Ceiling((double)o.BatchSize / o.MaxConcurrentPerSubscriber)
            && IsShortPause(o.GatherAfterWake) && IsShortPause(o.AnnounceInterval),
        "Webhooks: BatchSize, MaxConcurrentPerSubscriber, MaxSubscribersAtOnce and ResolveTimeout must be positive, ClaimLease longer than AttemptTimeout × ceil(BatchSize / MaxConcurrentPerSubscriber), and GatherAfterWake and AnnounceInterval from 0 to under a second.")
    // The dispatcher's longest sleep, as Orders:StockReleasePollInterval is the release worker's: at zero an idle dispatcher
    // queries the database back to back, and a negative one throws out of its first sleep and stops the host.
    .Validate(o => o.PollInterval > TimeSpan.Zero, "Webhooks:PollInterval must be more than zero (default 00:00:30).")
    // Each wait is a failed delivery's back-off and a down subscriber's pause: at zero they came at once.
    .Validate(o => o.RetrySchedule.All(wait => wait > TimeSpan.Zero), "Webhooks:RetrySchedule: every wait must be more than zero (leave it empty for the default, 10 s up to 24 h).")
    // Negative, a rotation's previous secret expired before the rotation: every subscriber still checking it failed at once.
    .Validate(o => o.SecretRotationGrace >= TimeSpan.Zero, "Webhooks:SecretRotationGrace must be zero (the previous secret stops signing at once) or more (default 1.00:00:00).");
builder.Services.AddSingleton<HostResolver>();
builder.Services.AddSingleton<WebhookTargetPolicy>();
builder.Services.AddSingleton<WebhookMetrics>();
WebhookDispatcher.AddHttpClient(builder.Services);
builder.Services.AddHostedService<WebhookDispatcher>();
builder.Services.AddSingleton<OutboxAnnouncer>();
builder.Services.AddHostedService(services => services.GetRequiredService<OutboxAnnouncer>());
builder.Services.AddOpenTelemetry().WithTracing(t => t.AddSource(WebhookDispatcher.ActivitySource.Name));

var app = builder.Build();
await app.MigrateDatabaseAsync<OrdersDbContext>("ordersdb");
await WebhookSecrets.LoadKeyRingAsync(app.Services);

app.UseServiceDefaults();
app.UseAuthentication();
app.UseAuthorization();

app.MapShopOpenApi("/orders");
app.MapDefaultEndpoints(publicPrefix: "/orders");
app.MapOrdersRoutes();

app.Run();

public partial class Program
{
    /// <summary>A pause the dispatcher or the announcer may take on every wake-up: from 0 to under a second.</summary>
    private static bool IsShortPause(TimeSpan pause) => pause >= TimeSpan.Zero && pause < TimeSpan.FromSeconds(1);
}
