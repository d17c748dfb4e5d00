using System.Text.Json;

namespace Shop.UnitTests.ServiceDefaults;

/// <summary>
/// The memory settings each service runs with live in its built runtimeconfig.json (set once in
/// Directory.Build.props); without the gen0 cap Inventory's peak RSS under load was 50–100 MiB higher
/// (docs/performance.md, Memory).
/// </summary>
public sealed class ServiceRuntimeConfigTests
{
    public static TheoryData<string> Services => ["Shop.Gateway", "Shop.Users", "Shop.Orders", "Shop.Inventory"];

    [Theory]
    [MemberData(nameof(Services))]
    public void A_service_caps_its_gen0_budget(string service)
    {
        var budget = Property(service, "System.GC.Gen0MaxBudget");

        Assert.InRange(budget.GetInt64(), 1L << 20, 32L << 20);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void A_service_compacts_a_mostly_free_old_generation(string service) =>
        Assert.InRange(Property(service, "System.GC.ConserveMemory").GetInt32(), 1, 9);

    /// <summary>A token signed with a key Users published since the service's last JWKS fetch is accepted on its first request (<see cref="SigningKeyRotationTests"/>).</summary>
    [Theory]
    [MemberData(nameof(Services))]
    public void A_service_waits_for_the_signing_keys_it_fetches_again(string service) =>
        Assert.True(Property(service, "Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking").GetBoolean());

    private static JsonElement Property(string service, string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, $"{service}.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        Assert.True(
            config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").TryGetProperty(name, out var value),
            $"{path} does not set {name}; it comes from Directory.Build.props for every Web SDK project.");
        return value.Clone();
    }
}
