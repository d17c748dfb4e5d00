using Shop.Orders.Apis;
using Shop.Orders.Clients;
using Shop.Orders.Data;
using Shop.Orders.Services;
using Shop.Orders.Webhooks;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddShopDbContext<OrdersDbContext, WebApplicationBuilder>("ordersdb");
builder.AddShopRedis(databaseIndex: 1);
builder.AddShopAuthentication();
builder.AddShopOpenApi("Shop Orders API");
builder.AddServiceClients();

builder.Services.AddScoped<IdempotencyStore>();
builder.Services.AddScoped<StockReleases>();
builder.Services.AddScoped<OrderPlacement>();
builder.Services.AddScoped<OrderWorkflow>();
builder.Services.AddScoped<OrderReader>();
builder.Services.AddScoped<WebhookOutbox>();
builder.Services.AddHostedService<StockReleaseWorker>();

builder.Services.Configure<WebhookOptions>(builder.Configuration.GetSection("Webhooks"));
builder.Services.AddSingleton<WebhookTargetPolicy>();
builder.Services.AddSingleton<WebhookDispatchSignal>();
builder.Services.AddSingleton<WebhookMetrics>();
// RemoveAllResilienceHandlers is experimental, but it is the documented way to opt one client out of the defaults.
#pragma warning disable EXTEXP0001
builder.Services.AddHttpClient(WebhookDispatcher.HttpClientName)
    .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
    {
        ConnectCallback = sp.GetRequiredService<WebhookTargetPolicy>().ConnectAsync,
        AllowAutoRedirect = false, // a redirect could point anywhere, including inside
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
    })
    .RemoveAllResilienceHandlers(); // the dispatcher owns retries and their schedule
#pragma warning restore EXTEXP0001
builder.Services.AddHostedService<WebhookDispatcher>();
builder.Services.AddOpenTelemetry().WithTracing(t => t.AddSource(WebhookDispatcher.ActivitySource.Name));

var app = builder.Build();
await app.MigrateDatabaseAsync<OrdersDbContext>();

app.UseServiceDefaults();
app.UseAuthentication();
app.UseAuthorization();

app.MapShopOpenApi("/orders");
app.MapDefaultEndpoints(publicPrefix: "/orders");
app.MapOrdersApi();
app.MapWebhooksApi();

app.Run();

public partial class Program;
