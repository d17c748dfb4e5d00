using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>OWASP API Top 10 (2023) probes and a seeded fuzzing pass over every write endpoint.</summary>
public sealed class SecurityTests(ShopApp shop)
{
    public static TheoryData<string> HostileStrings =>
    [
        "Robert'); DROP TABLE users;--",
        "\" OR 1=1 --",
        "back\\slash \"quotes\" and 'single'",
        "<script>alert('x')</script>",
        "%_like_wildcards_%",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 ñ ü 中文",
        "$where: {\"$gt\": \"\"}",
        "../../etc/passwd",
    ];

    [Theory]
    [MemberData(nameof(HostileStrings))]
    public async Task Hostile_text_is_stored_and_returned_verbatim(string text)
    {
        var (client, user) = await shop.NewUserAsync(text);
        var me = await (await client.GetAsync("/users/me")).JsonAsync();
        Assert.Equal(text, me.GetProperty("name").GetString());

        var admin = await shop.AdminAsync();
        var sku = "SEC-" + Guid.NewGuid().ToString("N")[..10];
        await (await admin.PostJsonAsync("/inventory/", new { sku, name = text, price = 1, qty = 1 })).ExpectAsync(201);
        Assert.Equal(text, (await (await admin.GetAsync($"/inventory/{sku}")).JsonAsync()).GetProperty("name").GetString());

        var search = await admin.GetAsync("/inventory/?q=" + Uri.EscapeDataString(text));
        await search.ExpectAsync(200);
        Assert.Contains((await search.JsonAsync()).GetProperty("items").EnumerateArray(), i => i.GetProperty("sku").GetString() == sku);
        await (await shop.Client().PostJsonAsync("/users/login", new { email = text, password = text })).ExpectProblemAsync(401);
        Assert.True(user.Id > 0);
    }

    /// <summary>
    /// "Names 100" is 100 characters, as the databases count them (char_length, varchar(100)), not 100 UTF-16 code
    /// units: a name of 100 emoji is a valid name, stored and returned as sent; a 101st character is refused.
    /// </summary>
    [Fact]
    public async Task A_name_of_100_characters_outside_the_BMP_is_stored_and_a_longer_one_refused()
    {
        var name = string.Concat(Enumerable.Repeat("😀", 100));
        var (client, _) = await shop.NewUserAsync(name);
        Assert.Equal(name, (await (await client.GetAsync("/users/me")).JsonAsync()).GetProperty("name").GetString());
        await (await shop.Client().PostJsonAsync("/users/register", new { name = name + "😀", email = $"long-{Guid.NewGuid():N}@example.com", password = "correct-horse-battery" }))
            .ExpectValidationAsync("name");

        var admin = await shop.AdminAsync();
        var sku = "BMP-" + Guid.NewGuid().ToString("N")[..10];
        await (await admin.PostJsonAsync("/inventory/", new { sku, name, price = 1, qty = 1 })).ExpectAsync(201);
        Assert.Equal(name, (await (await admin.GetAsync($"/inventory/{sku}")).JsonAsync()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Control_characters_are_refused_not_crashed_on()
    {
        var (client, user) = await shop.NewUserAsync();
        await (await client.PatchJsonAsync($"/users/{user.Id}", new { name = "nul\u0000byte" })).ExpectValidationAsync("name");
        var admin = await shop.AdminAsync();
        await (await admin.PostJsonAsync("/inventory/", new { sku = "CTRL-" + Guid.NewGuid().ToString("N")[..6], name = "bell\u0007", price = 1, qty = 1 })).ExpectValidationAsync("name");
        await (await admin.GetAsync("/inventory/?q=" + Uri.EscapeDataString("a\u0000b"))).ExpectValidationAsync("q");
    }

    [Fact]
    public async Task An_order_whose_total_cannot_be_stored_is_refused_and_its_stock_returned()
    {
        var sku = await shop.NewItemAsync(qty: 2000, price: 9_999_999_999.99m);
        var (client, _) = await shop.NewUserAsync();
        var response = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1000 } } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(2000, await client.StockAsync(sku));
    }

    [Fact]
    public async Task A_client_that_never_finishes_its_headers_is_disconnected()
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(shop.GatewayAddress.Host, shop.GatewayAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: "));
        var buffer = new byte[1024];
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var closed = false;
        try
        {
            while (!bound.IsCancellationRequested)
            {
                // Trickle one byte at a time, like a slow-loris client; the server must give up on us.
                await stream.WriteAsync("a"u8.ToArray(), bound.Token);
                var readTask = stream.ReadAsync(buffer, bound.Token).AsTask();
                if (await Task.WhenAny(readTask, Task.Delay(1000, bound.Token)) == readTask)
                {
                    closed = true; // the server answered (408) or closed the connection
                    break;
                }
            }
        }
        catch (IOException)
        {
            closed = true;
        }
        Assert.True(closed, "the gateway kept a never-ending request open for 60 s");
    }

    [Fact]
    public async Task Fuzzed_json_on_every_write_endpoint_never_causes_a_5xx()
    {
        var admin = await shop.AdminAsync();
        var (client, user) = await shop.NewUserAsync();
        var sku = await shop.NewItemAsync(qty: 100);
        var orderId = (await client.PlaceOrderAsync((sku, 1))).GetProperty("id").GetString();

        var endpoints = new (ShopClient Who, HttpMethod Method, string Path, string[] Fields)[]
        {
            (shop.Client(), HttpMethod.Post, "/users/register", ["name", "email", "password", "role", "is_active"]),
            (shop.Client(), HttpMethod.Post, "/users/login", ["email", "password"]),
            (client, HttpMethod.Patch, $"/users/{user.Id}", ["name", "email", "password", "current_password"]),
            (admin, HttpMethod.Post, "/inventory/", ["sku", "name", "price", "qty"]),
            (admin, HttpMethod.Patch, $"/inventory/{sku}", ["name", "price", "qty"]),
            (admin, HttpMethod.Post, $"/inventory/{sku}/adjust", ["delta"]),
            (client, HttpMethod.Post, "/orders/", ["items", "total", "user_id", "status"]),
            (client, HttpMethod.Patch, $"/orders/{orderId}", ["status"]),
            (admin, HttpMethod.Post, "/orders/webhooks", ["url", "events", "secret"]),
        };

        var random = new Random(20261125); // seeded: a failure reproduces
        var failures = new List<string>();
        foreach (var (who, method, path, fields) in endpoints)
        {
            for (var i = 0; i < 40; i++)
            {
                var body = FuzzBody(random, fields);
                var response = await who.SendAsync(method, path, new StringContent(body, Encoding.UTF8, "application/json"));
                var text = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode >= 500 || text.Contains("   at ") || text.Contains("Npgsql") || text.Contains("Exception"))
                {
                    failures.Add($"{method} {path} {body} → {(int)response.StatusCode} {text[..Math.Min(200, text.Length)]}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // Whatever got through left valid data behind.
        var item = await (await admin.GetAsync($"/inventory/{sku}")).JsonAsync();
        Assert.InRange(item.GetProperty("qty").GetInt32(), 0, int.MaxValue);
        Assert.True(item.GetProperty("price").GetDecimal() >= 0);
        var me = await (await admin.GetAsync($"/users/{user.Id}")).JsonAsync();
        Assert.Contains(me.GetProperty("role").GetString(), new[] { "user", "admin" });
        Assert.Equal("user", me.GetProperty("role").GetString());
    }

    private static string FuzzBody(Random random, string[] fields)
    {
        switch (random.Next(10))
        {
            case 0: return RandomValue(random, 0);
            case 1: return "{\"" + fields[random.Next(fields.Length)] + "\": ";
            case 2: return new string('[', random.Next(1, 200));
        }
        var members = fields.Where(_ => random.Next(3) > 0)
            .Select(f => $"{JsonSerializer.Serialize(f)}: {RandomValue(random, 0)}")
            .Append($"{JsonSerializer.Serialize("x" + random.Next(100))}: {RandomValue(random, 0)}");
        return "{" + string.Join(",", members) + "}";
    }

    private static string RandomValue(Random random, int depth) => random.Next(depth > 2 ? 9 : 12) switch
    {
        0 => "null",
        1 => random.Next(2) == 0 ? "true" : "false",
        2 => random.Next(int.MinValue, int.MaxValue).ToString(),
        3 => "1e308",
        4 => "-0.000001",
        5 => (random.NextDouble() * 1e6).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        6 => JsonSerializer.Serialize(RandomString(random)),
        7 => JsonSerializer.Serialize(random.Next(2) == 0 ? "pending" : "cancelled"),
        8 => "99999999999999999999999999999",
        9 => "[" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(random, depth + 1))) + "]",
        10 => "{\"sku\": " + RandomValue(random, depth + 1) + ", \"qty\": " + RandomValue(random, depth + 1) + "}",
        _ => "[{\"sku\": " + JsonSerializer.Serialize(RandomString(random)) + ", \"qty\": " + random.Next(-5, 2000) + "}]",
    };

    private static string RandomString(Random random)
    {
        string[] pieces = ["a", "Z", "9", " ", "'", "\"", "\\", "%", "_", "-", ".", "\u0000", "\u0007", "é", "😀", "\n", "<", "@", "http://", "127.0.0.1"];
        var length = random.Next(0, 12) == 0 ? random.Next(100, 400) : random.Next(0, 20);
        return string.Concat(Enumerable.Range(0, length).Select(_ => pieces[random.Next(pieces.Length)]));
    }
}
