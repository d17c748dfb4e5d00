using System.Text.RegularExpressions;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Runs alone (after the parallel tests, never beside the fault tests), so that the Error entries in
/// its time window can only come from its own requests: other tests deliberately cause real errors.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QuietLogsCollection
{
    public const string Name = "Quiet logs (alone, reads the services' logs)";
}

/// <summary>
/// A healthy system shows no red in the dashboard: the outcomes the services expect and answer (a
/// first start on an empty database, a duplicate email or sku answered 409, a wrong password, too
/// little stock) are not logged at Error, so an Error entry always means a real failure.
/// </summary>
[Collection(QuietLogsCollection.Name)]
public sealed partial class QuietLogsTests(ShopApp shop)
{
    private static readonly string[] Services = ["gateway", "users", "orders", "inventory"];

    [Fact]
    public async Task A_first_start_on_empty_databases_logs_no_errors()
    {
        // Every test run starts on fresh databases (Shop:EphemeralData), so this window holds the first migration.
        var errors = await ErrorEntriesAsync(shop.StartedAt, shop.HealthyAt);
        Assert.True(errors.Count == 0, "Error entries while the app started:\n" + string.Join("\n\n", errors));
    }

    [Fact]
    public async Task An_ordinary_session_with_expected_conflicts_logs_no_errors()
    {
        var from = DateTimeOffset.UtcNow;
        var (shopper, user) = await shop.NewUserAsync();
        await (await shop.Client().PostJsonAsync("/users/register", new { name = "Twin", email = user.Email, password = "another-password-1" })).ExpectProblemAsync(409);
        await (await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = "wrong-password-1" })).ExpectProblemAsync(401);
        await (await shop.Client().PostJsonAsync("/users/login", new { email = $"nobody-{Guid.NewGuid():N}@example.com", password = "wrong-password-1" })).ExpectProblemAsync(401);
        await shop.Client().LoginAsync(user.Email, user.Password);

        var sku = await shop.NewItemAsync(qty: 2);
        var admin = await shop.AdminAsync();
        await (await admin.PostJsonAsync("/inventory/", new { sku, name = "Same sku again", price = 1.00m, qty = 1 })).ExpectProblemAsync(409);
        await shopper.PlaceOrderAsync((sku, 1));
        await (await shopper.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 5 } } })).ExpectProblemAsync(409);
        await (await shopper.GetAsync($"/orders/{Guid.NewGuid()}")).ExpectProblemAsync(404);
        await (await shopper.GetAsync("/users/")).ExpectProblemAsync(403);
        await (await shop.Client().GetAsync("/orders/")).ExpectAsync(401);

        var until = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(3)); // the console lines reach the log files a moment later
        var errors = await ErrorEntriesAsync(from, until);
        Assert.True(errors.Count == 0, "Error entries during an ordinary session:\n" + string.Join("\n\n", errors));
    }

    /// <summary>Error and Critical entries (console format "fail:"/"crit:" and the lines that follow) logged in the window.</summary>
    private async Task<List<string>> ErrorEntriesAsync(DateTimeOffset from, DateTimeOffset until)
    {
        var found = new List<string>();
        foreach (var service in Services)
        {
            var path = shop.ResourceLogPath(service);
            // The file is appended to while it is read; share it, and only whole lines are looked at.
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var lines = (await new StreamReader(stream).ReadToEndAsync()).Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = Ansi().Replace(lines[i], "");
                if (ShopAppHost.Timestamp(line) is not { } stamp || stamp < from || stamp > until)
                {
                    continue;
                }
                var text = line[(line.IndexOf(' ') + 1)..];
                if (text.StartsWith("fail: ", StringComparison.Ordinal) || text.StartsWith("crit: ", StringComparison.Ordinal))
                {
                    var entry = lines.Skip(i).Take(4).Select(l => Ansi().Replace(l, "").TrimEnd());
                    found.Add($"[{service}] " + string.Join("\n    ", entry));
                }
            }
        }
        return found;
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Ansi();
}
