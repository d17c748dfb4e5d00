using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Shop.ServiceDefaults;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// Users, Inventory and the gateway protect nothing with Data Protection, which AddAuthentication registers in each:
/// they start without a key ring (in a container its start-up load warned that keys are in memory and unencrypted),
/// and a protector refuses to be used.
/// </summary>
public sealed class NoDataProtectionTests
{
    private static IHost NewService()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "Shop.Users" });
        builder.Logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging();
        // How Data Protection comes into every service (AddShopAuthentication, AddShopTokenValidation).
        builder.Services.AddAuthentication();
        builder.AddNoDataProtection();
        return builder.Build();
    }

    [Fact]
    public async Task A_service_that_protects_nothing_starts_without_loading_a_key_ring()
    {
        using var host = NewService();

        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);

        // Any entry at all: the key ring's load names its repository (Information on a machine, Warning in a container).
        var entries = host.Services.GetFakeLogCollector().GetSnapshot()
            .Where(r => r.Category?.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal) == true)
            .Select(r => $"{r.Level} {r.Category}[{r.Id.Id}]: {r.Message}").ToList();
        Assert.True(entries.Count == 0, "Data Protection at start:\n" + string.Join("\n", entries));
    }

    [Fact]
    public void A_protector_refuses_to_protect_and_says_how_orders_keeps_its_keys()
    {
        using var host = NewService();
        var protector = host.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("a sign-in cookie");

        var refused = Assert.Throws<InvalidOperationException>(() => protector.Protect("a session"u8.ToArray()));

        Assert.StartsWith("Shop.Users has no Data Protection key ring (AddNoDataProtection): nothing in it may protect data.", refused.Message);
        Assert.Contains("as Orders keeps them (AddDataProtection().PersistKeysToDbContext", refused.Message);
    }
}
