using System.Net;
using Microsoft.Playwright;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// On the scaled-out app (two replicas of each service, access tokens of 45 s): account changes hold
/// at the next request on every replica, and the SPA outlives its access tokens without the user noticing.
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed class SessionAcrossReplicasTests(ScaledShopApp shop)
{
    /// <summary>Enough requests through the gateway that each of the two replicas of a service gets some.</summary>
    private const int RequestsPerRoute = 6;

    [Fact]
    public async Task Demotion_deactivation_and_password_change_hold_at_the_next_request_on_every_replica()
    {
        var admin = await shop.AdminAsync();
        var (_, demoted) = await shop.NewUserAsync();
        await (await admin.PatchJsonAsync($"/users/{demoted.Id}", new { role = "admin" })).ExpectAsync(200);
        var demotedToken = await shop.Client().LoginAsync(demoted.Email, demoted.Password);
        var (_, deactivated) = await shop.NewUserAsync();
        var (changed, changedUser) = await shop.NewUserAsync();
        var (otherSession, _) = await shop.Client().SignInAsync(changedUser.Email, changedUser.Password);

        await (await admin.PatchJsonAsync($"/users/{demoted.Id}", new { role = "user" })).ExpectAsync(200);
        await (await admin.DeleteAsync($"/users/{deactivated.Id}")).ExpectAsync(204);
        await (await changed.PatchJsonAsync($"/users/{changedUser.Id}", new { password = "replica-pass-2", current_password = changedUser.Password })).ExpectAsync(200);

        var checks = new (string Who, string Token, string Route)[]
        {
            ("demoted admin", demotedToken, "/users/?limit=1"),
            ("demoted admin", demotedToken, "/orders/?limit=1&user_id=1"),
            ("deactivated", deactivated.Token, "/orders/"),
            ("deactivated", deactivated.Token, "/inventory/"),
            ("deactivated", deactivated.Token, "/users/me"),
            ("other session after password change", otherSession, "/orders/"),
            ("other session after password change", otherSession, "/inventory/"),
        };
        foreach (var (who, token, route) in checks)
        {
            for (var i = 0; i < RequestsPerRoute; i++)
            {
                var response = await shop.Client(token).GetAsync(route);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{who}: {route} answered {(int)response.StatusCode} on request {i + 1}");
            }
        }
    }

    [Fact]
    public async Task The_spa_outlives_its_access_token_silently_and_sign_out_ends_the_session_on_the_server()
    {
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync(shop.GatewayAddress);
        var (_, user) = await shop.NewUserAsync();
        await Chromium.SignInAsync(page, user.Email, user.Password);
        var firstToken = await page.EvaluateAsync<string>("() => sessionStorage.getItem('shop.token')");

        // Wait until the services themselves refuse the first access token: past its lifetime.
        var refused = await Eventually.ReadUntilAsync(async () => (await shop.Client(firstToken).GetAsync("/users/me")).StatusCode,
            s => s == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(1));
        Assert.True(refused == HttpStatusCode.Unauthorized, "the access token was still accepted after 90 s");

        await page.GetByRole(AriaRole.Link, new() { Name = "My orders" }).ClickAsync();
        await Chromium.WaitForRouteAsync(page, "/my/orders");
        // The list loaded (an authenticated call answered), so the page got past the expired token.
        await page.GetByText("You have no orders yet").WaitForAsync();
        Assert.Contains("/my/orders", page.Url);
        Assert.Equal(0, await page.GetByRole(AriaRole.Alert).CountAsync());
        var currentToken = await page.EvaluateAsync<string>("() => sessionStorage.getItem('shop.token')");
        Assert.NotEqual(firstToken, currentToken);
        await (await shop.Client(currentToken).GetAsync("/users/me")).ExpectAsync(200);

        // The page shows Sign in at once and ends the session on the server after (sent again while Users does not answer
        // it ok): judged once Users has answered the sign-out ok, which it does only after ending the session. A 5 s poll
        // after the click failed whenever those requests took longer (BrowserTests' sign-out test did on a loaded machine).
        var signedOut = page.WaitForResponseAsync(r => r.Url.EndsWith("/users/logout", StringComparison.Ordinal) && r.Ok, new() { Timeout = 60_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in" }).First.WaitForAsync();
        await signedOut;
        // The server ended the session: the token the page held no longer works anywhere.
        var status = await Eventually.ReadUntilAsync(async () => (await shop.Client(currentToken).GetAsync("/orders/")).StatusCode,
            s => s == HttpStatusCode.Unauthorized, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }
}
