using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shop.AppHost;
using Shop.AppHost.Infrastructure;
using Shop.Publishing;

var builder = DistributedApplication.CreateBuilder(args);
var settings = ShopAppHostSettings.From(builder);
var infrastructure = ShopInfrastructure.Create(builder);

// One PostgreSQL server per database, as in the original design: a fault in one service's
// database stays in that service, and each can be sized, backed up and moved on its own. Each
// database has an owner role (migrations) and an application role (the service's requests).
var usersDb = infrastructure.AddPostgresDatabase("users-db", "usersdb");
var ordersDb = infrastructure.AddPostgresDatabase("orders-db", "ordersdb");
var inventoryDb = infrastructure.AddPostgresDatabase("inventory-db", "inventorydb");
var redis = infrastructure.AddRedis("redis");

// Secrets: generated once for development and kept in the AppHost's user secrets; supplied by the
// operator in a deployment (.env / Kubernetes Secret).
var jwtSigningKey = builder.AddParameter("jwt-signing-key", new SigningKeyParameterDefault(), secret: true, persist: true);
// One key per calling service: each internal route admits only its callers, and a leaked key
// exposes only what that caller may do. Rotation: docs/deploy.md.
var ordersServiceKey = builder.AddParameter("orders-service-key", new GenerateParameterDefault { MinLength = 40, Special = false }, secret: true, persist: true);
var inventoryServiceKey = builder.AddParameter("inventory-service-key", new GenerateParameterDefault { MinLength = 40, Special = false }, secret: true, persist: true);
// Empty unless a key is being rotated (README, docs/deploy.md): the retiring JWT key, whose tokens Users still
// verifies, and one more key the called services accept from each caller beside its own.
var jwtPreviousSigningKey = builder.AddOptionalParameter("jwt-previous-signing-key", secret: true);
var ordersServiceKeyAccepted = builder.AddOptionalParameter("orders-service-key-accepted", secret: true);
var inventoryServiceKeyAccepted = builder.AddOptionalParameter("inventory-service-key-accepted", secret: true);
// Encrypts Orders' Data Protection key ring (kept in ordersdb), so a database backup alone cannot decrypt webhook secrets.
var ordersKeyRingKey = builder.AddParameter("orders-keyring-key", new GenerateParameterDefault { MinLength = 40, Special = false }, secret: true, persist: true);
var adminEmail = builder.AddParameter("admin-email", settings.AdminEmail);
var adminPassword = builder.ExecutionContext.IsPublishMode
    ? builder.AddParameter("admin-password", secret: true)
    : builder.AddParameter("admin-password", settings.AdminPassword, secret: true);

// Each service's memory in a deployment: the request at or above its measured peak RSS (docs/performance.md:
// gateway 172, Users 202, Orders 285, Inventory 240 MiB at most), so a node is never filled past what its pods
// need; the limit twice that, for a heap that grows under a load the benchmark did not reach (docs/deploy.md).
var users = builder.AddProject<Projects.Shop_Users>("users")
    .WithServiceDatabase(usersDb)
    .WithReference(redis).WaitFor(redis)
    .WithEnvironment("Jwt__SigningKey", jwtSigningKey)
    .WithEnvironment("Jwt__PreviousSigningKey", jwtPreviousSigningKey)
    .WithEnvironment("ServiceAuth__Callers__orders__0", ordersServiceKey)
    .WithEnvironment("ServiceAuth__Callers__orders__1", ordersServiceKeyAccepted)
    .WithEnvironment("ServiceAuth__Callers__inventory__0", inventoryServiceKey)
    .WithEnvironment("ServiceAuth__Callers__inventory__1", inventoryServiceKeyAccepted)
    .WithEnvironment("Admin__Email", adminEmail)
    .WithEnvironment("Admin__Password", adminPassword)
    .WithDeploymentMemory("224Mi", "448Mi")
    .WithShopDefaults(settings);

var inventory = builder.AddProject<Projects.Shop_Inventory>("inventory")
    .WithServiceDatabase(inventoryDb)
    .WithReference(redis).WaitFor(redis)
    .WithReference(users)
    .WithEnvironment("ServiceAuth__ApiKey", inventoryServiceKey)
    .WithEnvironment("ServiceAuth__Callers__orders__0", ordersServiceKey)
    .WithEnvironment("ServiceAuth__Callers__orders__1", ordersServiceKeyAccepted)
    .WithDeploymentMemory("272Mi", "544Mi")
    .WithShopDefaults(settings);

var orders = builder.AddProject<Projects.Shop_Orders>("orders")
    .WithServiceDatabase(ordersDb)
    .WithReference(redis).WaitFor(redis)
    .WithReference(users).WaitFor(users)
    .WithReference(inventory).WaitFor(inventory)
    .WithEnvironment("ServiceAuth__ApiKey", ordersServiceKey)
    .WithEnvironment("DataProtection__KeyRingKey", ordersKeyRingKey)
    .WithDeploymentMemory("320Mi", "640Mi")
    .WithShopDefaults(settings);

var web = builder.AddShopWebApp("web", Path.Combine(builder.AppHostDirectory, "..", "Shop.Web"), settings.GatewayPort, infrastructure.BaseImages);

var gateway = builder.AddProject<Projects.Shop_Gateway>("gateway")
    .WithHttpEndpoint(port: settings.GatewayPort, name: "http")
    .WithDirectEndpoints()
    .WithExternalHttpEndpoints()
    .WithClientAddressAtTheEdge()
    .WithAppHostEnvironment()
    .WithShopTelemetry(settings)
    .WithReference(redis) // rate limits; no WaitFor: without Redis the gateway limits in its own memory
    .WithReference(users).WaitFor(users)
    .WithReference(orders).WaitFor(orders)
    .WithReference(inventory).WaitFor(inventory)
    .WithReference(web.GetEndpoint("http"))
    .WithDeploymentMemory("192Mi", "384Mi")
    .WithHttpHealthCheck("/health");
if (builder.ExecutionContext.IsPublishMode)
{
    // A deployment opens its edge only once the SPA answers its health check; in run mode Vite starts
    // alongside and the gateway already reports an unreachable web app as such.
    gateway.WaitFor(web);
    // Inventory calls Users with its service key. A compose `up -d` that recreates both (Inventory's key rotation,
    // docs/deploy.md) must start the new inventory, presenting the new key, only once the new users accepting it is
    // healthy, not beside it. Not in run mode: there a WaitFor holds every start of Inventory, a restart included,
    // while Users is away, and Inventory started then must still come up and answer 503 naming Users (FaultTests).
    // Kubernetes is unchanged: a wait on another service is never an init container (ContainerBuilder).
    inventory.WaitFor(users);
}

builder.AddShopPublishers();
var app = builder.Build();
app.Run();
// A failed background service stops .NET 10's host with exit code 0, and Aspire runs the publish pipeline in one
// (dotnet/runtime#67146): a publish that failed (a refused value, a file it could not write) must fail the script.
if (app.Services.GetServices<IHostedService>().OfType<BackgroundService>().Any(s => s.ExecuteTask is { IsFaulted: true }))
{
    Environment.ExitCode = 1;
}
