using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Shop.Bench;

/// <summary>What the scenarios need, created through the public API: shoppers with tokens and skus with large stock.</summary>
public sealed class BenchData
{
    public const int InitialStock = 100_000_000;

    public required IReadOnlyList<string> Tokens { get; init; }
    public required IReadOnlyList<string> Skus { get; init; }
    public required string AdminToken { get; init; }

    public static async Task<BenchData> CreateAsync(Uri gateway, BenchOptions options, CancellationToken ct)
    {
        using var http = LoadRunner.Client(gateway, 8);
        var run = DateTime.UtcNow.ToString("yyyyMMddHHmmss") + "-" + Guid.NewGuid().ToString("N")[..6];

        var admin = await TokenAsync(await http.PostAsJsonAsync("/users/login", new { email = options.AdminEmail, password = options.AdminPassword }, ct), ct);

        var skus = Enumerable.Range(0, options.Skus).Select(i => $"BENCH-{run}-{i:D3}").ToList();
        foreach (var sku in skus)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/inventory/")
            {
                Content = JsonContent.Create(new { sku, name = $"Benchmark item {sku}", price = 9.99m, qty = InitialStock }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
            using var response = await http.SendAsync(request, ct);
            await ExpectAsync(response, 201, $"create {sku}", ct);
        }

        // Registration hashes a password (deliberately slow): a few in parallel.
        var tokens = await Task.WhenAll(Enumerable.Range(0, options.Users).Select(async i =>
        {
            var email = $"bench-{run}-{i}@example.com";
            var response = await http.PostAsJsonAsync("/users/register", new { name = $"Bench shopper {i}", email, password = "bench-password-" + run }, ct);
            return await TokenAsync(response, ct);
        }));
        return new BenchData { Tokens = tokens, Skus = skus, AdminToken = admin };
    }

    /// <summary>Current stock of each bench sku, read through the API (writes invalidate the cache).</summary>
    public async Task<Dictionary<string, long>> StockAsync(Uri gateway, CancellationToken ct)
    {
        using var http = LoadRunner.Client(gateway, 4);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var stock = new Dictionary<string, long>();
        foreach (var sku in Skus)
        {
            using var response = await http.GetAsync($"/inventory/{sku}", ct);
            await ExpectAsync(response, 200, $"read {sku}", ct);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            stock[sku] = body.GetProperty("qty").GetInt64();
        }
        return stock;
    }

    /// <summary>
    /// Units of the bench skus in stored, non-cancelled orders, as Orders knows them (admin listing).
    /// This, not the client's count of 201s, is what the stock must match: a request the client gave up
    /// on (priming is cut off after a few seconds) may still have been completed by the server.
    /// </summary>
    public async Task<long> UnitsInStoredOrdersAsync(Uri gateway, CancellationToken ct)
    {
        using var http = LoadRunner.Client(gateway, 4);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var skus = Skus.ToHashSet(StringComparer.Ordinal);
        long units = 0;
        for (var offset = 0; ; offset += 200)
        {
            using var response = await http.GetAsync($"/orders/?limit=200&offset={offset}", ct);
            await ExpectAsync(response, 200, "list orders", ct);
            var page = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            foreach (var order in page.GetProperty("items").EnumerateArray().Where(o => o.GetProperty("status").GetString() != "cancelled"))
            {
                units += order.GetProperty("items").EnumerateArray()
                    .Where(l => skus.Contains(l.GetProperty("sku").GetString()!))
                    .Sum(l => l.GetProperty("qty").GetInt64());
            }
            if (offset + 200 >= page.GetProperty("total").GetInt32())
            {
                return units;
            }
        }
    }

    private static async Task<string> TokenAsync(HttpResponseMessage response, CancellationToken ct)
    {
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Login/registration failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            return body.GetProperty("access_token").GetString()!;
        }
    }

    private static async Task ExpectAsync(HttpResponseMessage response, int status, string what, CancellationToken ct)
    {
        if ((int)response.StatusCode != status)
        {
            throw new InvalidOperationException($"{what}: expected {status}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
    }
}
