using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The SPA in real headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser), all
/// through the gateway. Screenshots of the key pages go to artifacts/screenshots.
/// </summary>
public sealed class BrowserTests(ShopApp shop) : IAsyncLifetime
{
    private Chromium _chromium = null!;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Chromium.ScreenshotDirectory);
        _chromium = await Chromium.LaunchAsync();
    }

    public ValueTask DisposeAsync() => _chromium.DisposeAsync();

    private Task<IPage> NewPageAsync(int width = 1280, int height = 860) => _chromium.NewPageAsync(shop.GatewayAddress, width, height);

    private static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Chromium.ScreenshotDirectory, name + ".png"), FullPage = true });

    private static async Task RegisterAsync(IPage page, string name, string email, string password, bool screenshot = false)
    {
        await page.GotoAsync("/register");
        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        if (screenshot)
        {
            await ScreenshotAsync(page, "01-register");
        }
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Chromium.WaitForRouteAsync(page, "/catalog");
    }

    private static Task SignInAsync(IPage page, string email, string password) => Chromium.SignInAsync(page, email, password);

    private static async Task SearchAsync(IPage page, string text)
    {
        await page.GetByLabel("Search").FillAsync(text);
        await page.GetByRole(AriaRole.Article).First.WaitForAsync();
    }

    [Fact]
    public async Task Shopper_registers_orders_two_items_sees_the_order_and_cancels_it()
    {
        var tag = "BR" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        var skuA = await shop.NewItemAsync(qty: 5, price: 12.50m, sku: $"{tag}-LAMP");
        var skuB = await shop.NewItemAsync(qty: 5, price: 3.20m, sku: $"{tag}-MUG");
        var page = await NewPageAsync();

        await RegisterAsync(page, "Browser Shopper", $"browser-{Guid.NewGuid():N}@example.com", "browser-pass-1", screenshot: true);
        await SearchAsync(page, tag);
        await ExpectCountAsync(page.GetByRole(AriaRole.Article), 2);
        await ScreenshotAsync(page, "02-catalogue");
        await page.GetByRole(AriaRole.Article, new() { Name = $"Test item {skuA}" }).GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();
        await page.GetByRole(AriaRole.Article, new() { Name = $"Test item {skuB}" }).GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Cart (2)" }).ClickAsync();
        await Chromium.WaitForRouteAsync(page, "/cart");
        await ScreenshotAsync(page, "03-cart");
        await page.GetByRole(AriaRole.Link, new() { Name = "Go to checkout" }).ClickAsync();
        await Chromium.WaitForRouteAsync(page, "/checkout");
        await ScreenshotAsync(page, "04-checkout");
        await Chromium.PlaceOrderAsync(page);

        await Chromium.WaitForRouteAsync(page, new Regex("/my/orders/[0-9a-f-]{36}$"));
        var orderId = page.Url.Split('/').Last();
        await page.GetByRole(AriaRole.Heading, new() { Name = $"Order {orderId[..8]}" }).WaitForAsync();
        await page.GetByRole(AriaRole.List, new() { Name = "Order events" }).GetByText("Order placed").First.WaitForAsync();
        await ScreenshotAsync(page, "05-order-detail");

        var admin = await shop.AdminAsync();
        Assert.Equal(4, await admin.StockAsync(skuA));
        Assert.Equal(4, await admin.StockAsync(skuB));

        await page.GotoAsync("/my/orders");
        await page.GetByRole(AriaRole.Link, new() { Name = $"Order {orderId[..8]}" }).WaitForAsync();
        await ScreenshotAsync(page, "06-my-orders");
        await page.GetByRole(AriaRole.Link, new() { Name = $"Order {orderId[..8]}" }).ClickAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel order" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm cancellation" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm cancellation" }).WaitForAsync(new() { State = WaitForSelectorState.Detached });
        await page.GetByRole(AriaRole.List, new() { Name = "Order events" }).GetByText("cancelled", new() { Exact = false }).First.WaitForAsync();
        await ScreenshotAsync(page, "07-order-cancelled");
        Assert.Equal(5, await admin.StockAsync(skuA));
        Assert.Equal(5, await admin.StockAsync(skuB));
    }

    [Fact]
    public async Task Admin_creates_an_item_in_the_browser_and_a_shopper_sees_it()
    {
        var sku = "ADM" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var page = await NewPageAsync();
        await SignInAsync(page, ShopApp.AdminEmail, ShopApp.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Inventory" }).ClickAsync();
        await Chromium.WaitForRouteAsync(page, "/admin/inventory");
        // The address changes before React has replaced the catalogue (the router renders in a transition),
        // and the catalogue has a "Search" box too: wait for this page's own heading first.
        await page.GetByRole(AriaRole.Heading, new() { Name = "Inventory", Exact = true }).WaitForAsync();
        // The list narrowed to the new sku first: other tests' items share this database, and the new row
        // must appear because the list refreshed after the create, not depend on where it sorts among them.
        await page.GetByLabel("Search").FillAsync(sku);
        await page.GetByText("No items").WaitForAsync();
        await page.GetByLabel("SKU").FillAsync(sku);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Browser-made teapot");
        await page.GetByLabel("Price").FillAsync("31.90");
        await page.GetByLabel("Quantity").FillAsync("7");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add item" }).ClickAsync();
        await page.GetByRole(AriaRole.Row, new() { Name = sku }).WaitForAsync();
        await ScreenshotAsync(page, "10-admin-inventory");

        var item = await (await (await shop.AdminAsync()).GetAsync($"/inventory/{sku}")).JsonAsync();
        Assert.Equal(7, item.GetProperty("qty").GetInt32());
        Assert.Equal(31.90m, item.GetProperty("price").GetDecimal());

        var shopper = await NewPageAsync();
        await RegisterAsync(shopper, "Teapot Fan", $"teapot-{Guid.NewGuid():N}@example.com", "teapot-pass-1");
        await SearchAsync(shopper, sku);
        await shopper.GetByRole(AriaRole.Article, new() { Name = "Browser-made teapot" }).WaitForAsync();
    }

    [Fact]
    public async Task A_shopper_sees_no_admin_pages()
    {
        var page = await NewPageAsync();
        await RegisterAsync(page, "Curious Shopper", $"curious-{Guid.NewGuid():N}@example.com", "curious-pass-1");
        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });
        await nav.GetByRole(AriaRole.Link, new() { Name = "My orders" }).WaitForAsync();
        Assert.Equal(0, await nav.GetByRole(AriaRole.Link, new() { Name = "Inventory" }).CountAsync());
        Assert.Equal(0, await nav.GetByRole(AriaRole.Link, new() { Name = "Users" }).CountAsync());
        await page.GotoAsync("/admin/users");
        await page.GetByRole(AriaRole.Heading, new() { Name = "Not authorised" }).WaitForAsync();
        await ScreenshotAsync(page, "11-not-authorised");
    }

    [Fact]
    public async Task A_stock_problem_at_checkout_is_explained_in_words()
    {
        var sku = await shop.NewItemAsync(qty: 1, price: 5m);
        var page = await NewPageAsync(390, 844); // a phone
        await RegisterAsync(page, "Late Shopper", $"late-{Guid.NewGuid():N}@example.com", "late-pass-12");
        await SearchAsync(page, sku);
        await page.GetByRole(AriaRole.Article, new() { Name = $"Test item {sku}" }).GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();

        // Someone else buys the last unit meanwhile.
        var (other, _) = await shop.NewUserAsync();
        await other.PlaceOrderAsync((sku, 1));

        // The checkout reads today's stock before the order can go: it says so in words and holds the order, rather
        // than sending it to be refused.
        await page.GotoAsync("/checkout");
        await page.GetByText("Out of stock — remove it to continue").WaitForAsync();
        await page.GetByText("Remove the items no longer sold or out of stock to place your order.").WaitForAsync();
        // Held, but still focusable (aria-disabled rather than disabled) so a keyboard user's focus stays on it.
        Assert.True(await page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).GetAttributeAsync("aria-disabled") == "true", "Place order is offered for an order that cannot be filled");
        Assert.Contains(sku, await page.ContentAsync());
        Assert.DoesNotContain("{", await page.InnerTextAsync("main"));
        await ScreenshotAsync(page, "12-checkout-stock-problem-phone");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Remove Test item {sku}" }).ClickAsync();
        await page.GetByText("Your cart is empty").WaitForAsync();
    }

    /// <summary>
    /// A keyboard shopper edits the cart: + up to the stock and − down to 1 leave focus on the button pressed (natively
    /// disabled as the press reached the limit, it dropped focus to the page), Remove leaves it on the next line, and
    /// Empty cart on the words that the cart is empty.
    /// </summary>
    [Fact]
    public async Task A_keyboard_shopper_keeps_focus_in_the_cart_as_lines_reach_their_limits_and_go()
    {
        var tag = "KB" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        var pen = await shop.NewItemAsync(qty: 2, price: 4m, sku: $"{tag}-PEN");
        var pad = await shop.NewItemAsync(qty: 5, price: 2m, sku: $"{tag}-PAD");
        var page = await NewPageAsync();
        await RegisterAsync(page, "Keyboard Shopper", $"keyboard-{Guid.NewGuid():N}@example.com", "keyboard-pass-1");
        await SearchAsync(page, tag);
        await ExpectCountAsync(page.GetByRole(AriaRole.Article), 2);
        foreach (var sku in new[] { pen, pad })
        {
            await page.GetByRole(AriaRole.Article, new() { Name = $"Test item {sku}" }).GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();
        }
        await page.GetByRole(AriaRole.Link, new() { Name = "Cart (2)" }).ClickAsync();
        await Chromium.WaitForRouteAsync(page, "/cart");

        async Task PressAsync(ILocator button)
        {
            await button.FocusAsync();
            await page.Keyboard.PressAsync("Enter");
        }
        var more = page.GetByRole(AriaRole.Button, new() { Name = $"Increase quantity of Test item {pen}" });
        await PressAsync(more); // 2 of 2 in stock
        await Assertions.Expect(page.GetByRole(AriaRole.Spinbutton, new() { Name = $"quantity of Test item {pen}" })).ToHaveValueAsync("2");
        await Assertions.Expect(more).ToBeFocusedAsync();
        await Assertions.Expect(more).ToHaveAttributeAsync("aria-disabled", "true");
        var fewer = page.GetByRole(AriaRole.Button, new() { Name = $"Decrease quantity of Test item {pen}" });
        await PressAsync(fewer); // back to 1
        await Assertions.Expect(page.GetByRole(AriaRole.Spinbutton, new() { Name = $"quantity of Test item {pen}" })).ToHaveValueAsync("1");
        await Assertions.Expect(fewer).ToBeFocusedAsync();

        await PressAsync(page.GetByRole(AriaRole.Button, new() { Name = $"Remove Test item {pen}" }));
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Decrease quantity of Test item {pad}" })).ToBeFocusedAsync();
        await PressAsync(page.GetByRole(AriaRole.Button, new() { Name = "Empty cart" }));
        await Assertions.Expect(page.Locator(":focus")).ToContainTextAsync("Your cart is empty");
    }

    /// <summary>
    /// Every page fits a 360 px wide phone without sideways scrolling, also with the longest names,
    /// skus and emails the API accepts (one unbroken word each). Phone screenshots of each page.
    /// </summary>
    [Fact]
    public async Task Every_page_fits_a_360_px_wide_phone()
    {
        var tag = Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var sku = ("W" + tag + new string('X', 64))[..64];
        var name = ("Unbreakable" + tag + new string('o', 100))[..100];
        var admin = await shop.AdminAsync();
        await (await admin.PostJsonAsync("/inventory/", new { sku, name, price = 1234567.89m, qty = 50 })).ExpectAsync(201);
        await (await admin.PostJsonAsync("/orders/webhooks/", new { url = $"http://127.0.0.1:9/{new string('h', 120)}", events = new[] { "*" } })).ExpectAsync(201);

        var overflows = new List<string>();
        async Task CheckAsync(IPage page, string path, string screenshot, Func<Task>? ready = null)
        {
            if (path.Length > 0)
            {
                await page.GotoAsync(path);
            }
            await (ready?.Invoke() ?? page.GetByRole(AriaRole.Heading).First.WaitForAsync());
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            var widths = await page.EvaluateAsync<int[]>("[document.documentElement.scrollWidth, window.innerWidth]");
            if (widths[0] > widths[1])
            {
                overflows.Add($"{page.Url}: {widths[0]} px wide in a {widths[1]} px window");
            }
            // Fitting by cutting content off is no fit: nothing may be clipped sideways, except text
            // deliberately shortened with an ellipsis (it carries a title), screen-reader-only text and
            // form fields (they scroll their own text).
            var clipped = await page.EvaluateAsync<string[]>("""
                [...document.querySelectorAll('body *')].filter(el => {
                  const s = getComputedStyle(el);
                  return (s.overflowX === 'hidden' || s.overflowX === 'clip') && s.textOverflow !== 'ellipsis' && !el.matches('input, textarea, select')
                    && el.clientWidth > 1 && el.scrollWidth > el.clientWidth + 1;
                }).map(el => `<${el.tagName.toLowerCase()} class="${el.className}"> shows ${el.clientWidth} of ${el.scrollWidth} px`)
                """);
            overflows.AddRange(clipped.Select(c => $"{page.Url}: {c}"));
            await ScreenshotAsync(page, "phone-" + screenshot);
        }

        var shopper = await NewPageAsync(360, 740);
        await CheckAsync(shopper, "/signin", "signin");
        await CheckAsync(shopper, "/register", "register");
        var email = $"{new string('e', 40)}-{Guid.NewGuid():N}@example.com";
        await RegisterAsync(shopper, "Phone" + new string('y', 60), email, "phone-pass-1");
        await SearchAsync(shopper, sku);
        await CheckAsync(shopper, "", "catalogue", () => shopper.GetByRole(AriaRole.Article, new() { Name = name }).WaitForAsync());
        await shopper.GetByRole(AriaRole.Article, new() { Name = name }).GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();
        await CheckAsync(shopper, "/cart", "cart");
        await CheckAsync(shopper, "/checkout", "checkout");
        await Chromium.PlaceOrderAsync(shopper);
        await Chromium.WaitForRouteAsync(shopper, new Regex("/my/orders/[0-9a-f-]{36}$"));
        var orderId = shopper.Url.Split('/').Last();
        await CheckAsync(shopper, "", "order", () => shopper.GetByRole(AriaRole.List, new() { Name = "Order events" }).WaitForAsync());
        await CheckAsync(shopper, "/my/orders", "my-orders", () => shopper.GetByRole(AriaRole.Link, new() { Name = $"Order {orderId[..8]}" }).WaitForAsync());
        await CheckAsync(shopper, "/account", "account", () => shopper.GetByLabel("Name").WaitForAsync());

        var adminPage = await NewPageAsync(360, 740);
        await SignInAsync(adminPage, ShopApp.AdminEmail, ShopApp.AdminPassword);
        await CheckAsync(adminPage, "/admin/inventory", "admin-inventory");
        await CheckAsync(adminPage, "/admin/orders", "admin-orders");
        await CheckAsync(adminPage, $"/admin/orders/{orderId}", "admin-order", () => adminPage.GetByRole(AriaRole.List, new() { Name = "Order events" }).WaitForAsync());
        await CheckAsync(adminPage, "/admin/users", "admin-users");
        await CheckAsync(adminPage, "/admin/webhooks", "admin-webhooks");

        Assert.True(overflows.Count == 0, "Pages wider than the phone, or cut off:\n" + string.Join("\n", overflows));
    }

    [Fact]
    public async Task Html_responses_carry_security_headers()
    {
        var response = await shop.Client().GetAsync("/catalog", r => r.Headers.Add("Accept", "text/html"));
        await response.ExpectAsync(200);
        Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(string.IsNullOrEmpty(response.Headers.GetValues("Referrer-Policy").Single()));
        // A page another site opened cannot reach back into it (window.opener), nor it into the shop's window.
        Assert.True(response.Headers.TryGetValues("Cross-Origin-Opener-Policy", out var opener), "no Cross-Origin-Opener-Policy on a page");
        Assert.Equal("same-origin", opener.Single());
        // The shop uses no camera, microphone, location, payment or sensors: nothing injected into a page may ask for them.
        Assert.True(response.Headers.TryGetValues("Permissions-Policy", out var permissions), "no Permissions-Policy on a page");
        foreach (var feature in new[] { "camera=()", "microphone=()", "geolocation=()", "payment=()" })
        {
            Assert.Contains(feature, permissions.Single());
        }
    }

    private static async Task ExpectCountAsync(ILocator locator, int count)
    {
        Assert.Equal(count, await Eventually.ReadUntilAsync(locator.CountAsync, n => n == count, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100)));
    }

    /// <summary>
    /// A shopper signed in in one tab opens the shop in another (a link opened in a new tab, a new window): the new tab is
    /// signed in as the first, also at a page that needs it, rather than showing sign in. The tabs share the browser's
    /// session, so Sign out in the new one signs the first one out too.
    /// </summary>
    [Fact]
    public async Task A_new_tab_of_a_signed_in_shopper_is_signed_in_and_its_sign_out_signs_out_the_first_tab()
    {
        var (_, user) = await shop.NewUserAsync("Tabbed Shopper");
        var first = await NewPageAsync();
        await SignInAsync(first, user.Email, user.Password);

        var second = await _chromium.NewTabAsync(first.Context);
        await second.GotoAsync("/my/orders");
        await second.GetByRole(AriaRole.Heading, new() { Name = "My orders" }).WaitForAsync();
        await second.GetByText("You have no orders yet").WaitForAsync(); // the shopper's own orders, read with the tab's token
        await Chromium.WaitForRouteAsync(second, "/my/orders");
        await second.GetByText("Tabbed Shopper").WaitForAsync();
        await ScreenshotAsync(second, "13-new-tab-signed-in");

        await second.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Chromium.WaitForRouteAsync(second, "/signin");
        await Chromium.WaitForRouteAsync(first, "/signin");
        await first.GetByRole(AriaRole.Link, new() { Name = "Sign in" }).First.WaitForAsync();
        Assert.Equal(0, await first.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).CountAsync());

        // The page deleted the marker itself (the refresh cookie stays: Users cannot see it at sign-out), so no new tab
        // asks to restore a session, whatever became of the sign-out at Users.
        Assert.DoesNotContain("shop_session", await first.EvaluateAsync<string>("() => document.cookie"));
        var third = await _chromium.NewTabAsync(first.Context);
        var restores = 0;
        third.Request += (_, request) => restores += request.Url.Contains("/users/token/refresh", StringComparison.Ordinal) ? 1 : 0;
        await third.GotoAsync("/my/orders");
        await Chromium.WaitForRouteAsync(third, "/signin");
        Assert.Equal(0, restores);
    }

    /// <summary>
    /// A sibling host of the shop's site (here <c>evil.shop.localhost</c> beside <c>shop.localhost</c>: Chromium resolves
    /// every *.localhost to this machine and treats it as secure, so Secure cookies work over http as on the real site)
    /// tosses a refresh cookie of its attacker's own session for the whole site, from script, on a path longer than the
    /// real cookie's so the browser sends it first. A new tab of the signed-in shopper must restore the shopper's own
    /// session, not the attacker's (in which the shopper would then enter addresses and orders: login CSRF). The prefixed
    /// name cannot be tossed at all; the browser refuses it from the sibling.
    /// </summary>
    [Fact]
    public async Task A_refresh_cookie_tossed_by_a_sibling_host_does_not_put_the_browser_in_the_attackers_session()
    {
        var (_, victim) = await shop.NewUserAsync("Tossed Victim");
        var (_, attacker) = await shop.NewUserAsync("Cookie Tosser");
        var (_, attackerToken) = await shop.Client().SignInAsync(attacker.Email, attacker.Password);
        var site = new UriBuilder(shop.GatewayAddress) { Host = "shop.localhost" }.Uri;
        var first = await _chromium.NewPageAsync(site);
        await SignInAsync(first, victim.Email, victim.Password);

        var sibling = await _chromium.NewTabAsync(first.Context);
        await sibling.GotoAsync(new UriBuilder(site) { Host = "evil.shop.localhost", Path = "/" }.ToString());
        await sibling.EvaluateAsync("""
            token => {
              for (const name of ["shop_refresh", "__Host-shop_refresh"])
                for (const path of ["/users/token/refresh", "/"])
                  document.cookie = `${name}=${token}; Domain=shop.localhost; Path=${path}; Secure; SameSite=Strict`;
            }
            """, attackerToken);
        var tossed = (await first.Context.CookiesAsync([site.ToString()])).Where(c => c.Value == attackerToken).ToList();
        Assert.True(tossed.Count > 0, "the sibling's cookies did not reach the shop's jar: the test shows nothing");
        Assert.DoesNotContain(tossed, c => c.Name.StartsWith("__Host-", StringComparison.Ordinal));

        var second = await _chromium.NewTabAsync(first.Context);
        await second.GotoAsync(new Uri(site, "/my/orders").ToString());
        await second.GetByRole(AriaRole.Heading, new() { Name = "My orders" }).WaitForAsync();
        var shownAs = second.GetByText(new Regex("^(Tossed Victim|Cookie Tosser)$"));
        await shownAs.First.WaitForAsync();
        Assert.Equal("Tossed Victim", (await shownAs.First.InnerTextAsync()).Trim());
    }

    /// <summary>
    /// A shopper with checkout open in two tabs (one browser: shared localStorage, cookies and Web Locks) clicks Place
    /// order in both at once: both tabs send the same Idempotency-Key, chosen under the Web Lock
    /// <c>shop-checkout-attempt</c>, so Orders places one order and both tabs show it. To make the clicks race, each
    /// order request is held at the browser's edge until both tabs have sent theirs: so both keys are chosen before
    /// either tab hears of an order (which would end its attempt), and both requests reach Orders together. What keeps
    /// the two keys one is then only the lock and the shared storage.
    /// </summary>
    [Fact]
    public async Task Two_tabs_of_one_shopper_clicking_Place_order_at_once_place_one_order_and_both_show_it()
    {
        var sku = await shop.NewItemAsync(qty: 5, price: 4.20m);
        var (client, user) = await shop.NewUserAsync("Two-tab Shopper");
        var first = await NewPageAsync();
        await SignInAsync(first, user.Email, user.Password);
        await SearchAsync(first, sku);
        await first.GetByRole(AriaRole.Article, new() { Name = $"Test item {sku}" }).GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();
        await first.GotoAsync("/checkout");
        var second = await _chromium.NewTabAsync(first.Context);
        await second.GotoAsync("/checkout");

        var keys = new ConcurrentQueue<string>();
        var bothSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await first.Context.RouteAsync(new Regex("/orders/$"), async route =>
        {
            if (route.Request.Method == "POST")
            {
                keys.Enqueue(route.Request.Headers.GetValueOrDefault("idempotency-key", "(none)"));
                if (keys.Count == 2)
                {
                    bothSent.TrySetResult();
                }
                // Bounded: a tab that never sends lets the other go on, and the assertions below say so.
                await Task.WhenAny(bothSent.Task, Task.Delay(TimeSpan.FromSeconds(20)));
            }
            await route.ContinueAsync();
        });
        await Task.WhenAll(Chromium.PlaceOrderAsync(first), Chromium.PlaceOrderAsync(second));

        var placed = new Regex("/my/orders/([0-9a-f-]{36})$");
        await Task.WhenAll(Chromium.WaitForRouteAsync(first, placed), Chromium.WaitForRouteAsync(second, placed));
        Assert.True(bothSent.Task.IsCompleted, $"The tabs did not both send an order together; keys sent: {string.Join(", ", keys)}");
        var shownByFirst = placed.Match(first.Url).Groups[1].Value;
        Assert.Equal(shownByFirst, placed.Match(second.Url).Groups[1].Value);

        var orders = await (await client.GetAsync("/orders/")).JsonAsync();
        Assert.True(orders.GetProperty("total").GetInt32() == 1, $"Orders placed: {orders.GetProperty("total").GetInt32()}; keys sent: {string.Join(", ", keys)}");
        Assert.Equal(shownByFirst, orders.GetProperty("items")[0].GetProperty("id").GetString());
        Assert.Equal(4, await (await shop.AdminAsync()).StockAsync(sku));
    }

    /// <summary>
    /// Sign-out ends the session on the server even when the page's access token was refused before it expired
    /// (the account changed since it was issued: here an admin makes it admin). The session goes on in the
    /// refresh cookie, which the browser sends only to <c>/users/token</c>: the page exchanges it, then signs that out.
    /// </summary>
    [Fact]
    public async Task Sign_out_ends_the_session_on_the_server_after_the_account_changed_under_the_page()
    {
        var page = await NewPageAsync();
        var (_, user) = await shop.NewUserAsync();
        await using var db = await shop.OpenDatabaseAsync("usersdb");
        const string Working = "SELECT count(*) FROM refresh_tokens WHERE user_id = @id AND revoked_at IS NULL AND consumed_at IS NULL AND expires_at > now()";
        var before = await Sql.ScalarAsync(db, Working, ("id", user.Id)); // the registration's own session
        await Chromium.SignInAsync(page, user.Email, user.Password);
        Assert.Equal(before + 1, await Sql.ScalarAsync(db, Working, ("id", user.Id)));
        var admin = await shop.AdminAsync();
        await (await admin.PatchJsonAsync($"/users/{user.Id}", new { role = "admin" })).ExpectAsync(200);
        var pageToken = await page.EvaluateAsync<string>("() => sessionStorage.getItem('shop.token')");
        await (await shop.Client(pageToken).GetAsync("/users/me")).ExpectProblemAsync(401);

        // The page shows Sign in at once and ends the session on the server after (the exchange, then the sign-out, sent
        // again while Users does not answer it ok): judged once Users has answered the sign-out ok, which it does only
        // after ending the session. A 5 s poll failed whenever those requests took longer, as on a loaded machine.
        var signedOut = page.WaitForResponseAsync(r => r.Url.EndsWith("/users/logout", StringComparison.Ordinal) && r.Ok, new() { Timeout = 60_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in" }).First.WaitForAsync();
        await signedOut;
        // No refresh token of the page's session still works.
        Assert.Equal(before, await Sql.ScalarAsync(db, Working, ("id", user.Id)));
    }

    /// <summary>
    /// A shopper changes their password on the Account page. Users ends the page's access token with it (the session is
    /// kept), so the next page's request is refused and the page carries on with a refreshed one. After Sign out the old
    /// password no longer signs in; the new one does.
    /// </summary>
    [Fact]
    public async Task A_shopper_changes_their_password_on_the_account_page_and_then_only_the_new_one_signs_in()
    {
        const string NewPassword = "changed-pass-1";
        var page = await NewPageAsync();
        var (_, user) = await shop.NewUserAsync();
        await SignInAsync(page, user.Email, user.Password);
        await page.GetByRole(AriaRole.Link, new() { Name = "Account" }).ClickAsync();
        await Chromium.WaitForRouteAsync(page, "/account");
        var password = page.GetByRole(AriaRole.Form, new() { Name = "Password" });
        await password.GetByLabel("Current password").FillAsync(user.Password);
        await password.GetByLabel("New password").FillAsync(NewPassword);
        await password.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
        await Assertions.Expect(password.GetByRole(AriaRole.Status))
            .ToHaveTextAsync("Your password was changed. Your other sessions were signed out.", new() { Timeout = 20_000 });
        await ScreenshotAsync(page, "account-password-changed");

        await page.GetByRole(AriaRole.Link, new() { Name = "My orders" }).ClickAsync();
        await Assertions.Expect(page.GetByText("You have no orders yet")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Chromium.WaitForRouteAsync(page, "/my/orders");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Chromium.WaitForRouteAsync(page, "/signin");
        await page.GetByLabel("Email").FillAsync(user.Email);
        await page.GetByLabel("Password").FillAsync(user.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The email or password is incorrect.", new() { Timeout = 20_000 });
        await SignInAsync(page, user.Email, NewPassword);
    }
}
