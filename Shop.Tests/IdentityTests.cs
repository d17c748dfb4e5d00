using System.Net;
using Microsoft.IdentityModel.JsonWebTokens;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Identity after the token is issued: sessions (refresh rotation, reuse detection, sign-out), and
/// authorization that follows the account's current role, status and password at the next request.
/// </summary>
public sealed class IdentityTests(ShopApp shop)
{
    /// <summary>Routes that need a signed-in user at each service, and ones that need an admin.</summary>
    private static readonly string[] SignedInRoutes = ["/users/me", "/orders/", "/inventory/"];

    /// <summary>
    /// The browser's refresh cookie. The <c>__Host-</c> prefix makes a browser take it only from the shop's own host,
    /// Secure, <c>Path=/</c> and without <c>Domain</c>: a sibling host of the same site can neither set nor shadow it.
    /// </summary>
    private const string RefreshCookie = "__Host-shop_refresh";

    /// <summary>Its name before the prefix (<c>Path=/users/token</c>), which browsers signed in before the change still hold.</summary>
    private const string OldRefreshCookie = "shop_refresh";

    private async Task<(ShopClient Admin, TestUser User, string AdminToken)> NewSecondAdminAsync()
    {
        var (_, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        await (await admin.PatchJsonAsync($"/users/{user.Id}", new { role = "admin" })).ExpectAsync(200);
        var token = await shop.Client().LoginAsync(user.Email, user.Password);
        await (await shop.Client(token).GetAsync("/users/?limit=1")).ExpectAsync(200);
        return (admin, user, token);
    }

    [Fact]
    public async Task A_demoted_admin_cannot_make_itself_admin_again_with_its_old_token()
    {
        var (admin, demoted, oldToken) = await NewSecondAdminAsync();
        await (await admin.PatchJsonAsync($"/users/{demoted.Id}", new { role = "user" })).ExpectAsync(200);

        var self = shop.Client(oldToken);
        await (await self.PatchJsonAsync($"/users/{demoted.Id}", new { role = "admin" })).ExpectProblemAsync(401);
        // Admin routes at every service refuse the old token at the next request.
        await (await self.GetAsync("/users/?limit=1")).ExpectProblemAsync(401);
        await (await self.PostJsonAsync("/inventory/", new { sku = "DEMOTED-" + Guid.NewGuid().ToString("N")[..8], name = "x", price = 1, qty = 1 })).ExpectProblemAsync(401);
        await (await self.PostJsonAsync("/orders/webhooks", new { url = "https://example.com/hook", events = new[] { "*" } })).ExpectProblemAsync(401);
        var account = await (await admin.GetAsync($"/users/{demoted.Id}")).JsonAsync();
        Assert.Equal("user", account.GetProperty("role").GetString());

        // Signing in again gives a token with the current role.
        var fresh = shop.Client(await shop.Client().LoginAsync(demoted.Email, demoted.Password));
        await (await fresh.GetAsync("/users/?limit=1")).ExpectProblemAsync(403);
    }

    [Fact]
    public async Task A_deactivated_admins_token_can_no_longer_promote_or_deactivate_anyone()
    {
        var (admin, deactivated, oldToken) = await NewSecondAdminAsync();
        var (_, bystander) = await shop.NewUserAsync();
        await (await admin.DeleteAsync($"/users/{deactivated.Id}")).ExpectAsync(204);

        var self = shop.Client(oldToken);
        await (await self.PatchJsonAsync($"/users/{bystander.Id}", new { role = "admin" })).ExpectProblemAsync(401);
        await (await self.DeleteAsync($"/users/{bystander.Id}")).ExpectProblemAsync(401);
        foreach (var route in SignedInRoutes)
        {
            await (await self.GetAsync(route)).ExpectProblemAsync(401);
        }
        var account = await (await admin.GetAsync($"/users/{bystander.Id}")).JsonAsync();
        Assert.Equal("user", account.GetProperty("role").GetString());
        Assert.True(account.GetProperty("is_active").GetBoolean());
    }

    [Fact]
    public async Task Two_admins_demoting_or_deactivating_each_other_at_once_leave_one_of_them_an_active_admin()
    {
        // Each of two admins takes the other's admin power at the same moment (a defender demoting a stolen admin account
        // while its thief demotes the defender): whichever is applied first must stand, and the second is refused, as its
        // sender is no admin any more; applying both left the shop with no active admin, which the bootstrap never makes again.
        Func<ShopClient, TestUser, Task<HttpResponseMessage>> demote = (by, other) => by.PatchJsonAsync($"/users/{other.Id}", new { role = "user" });
        Func<ShopClient, TestUser, Task<HttpResponseMessage>> deactivate = (by, other) => by.DeleteAsync($"/users/{other.Id}");
        var admin = await shop.AdminAsync();
        var survivors = new List<string>();
        for (var round = 0; round < 4; round++)
        {
            foreach (var (first, second) in new[] { (demote, demote), (deactivate, deactivate), (demote, deactivate) })
            {
                var (_, a, aToken) = await NewSecondAdminAsync();
                var (_, b, bToken) = await NewSecondAdminAsync();
                var answers = await Task.WhenAll(first(shop.Client(aToken), b), second(shop.Client(bToken), a));
                var accounts = await Task.WhenAll(new[] { a, b }.Select(async u => await (await admin.GetAsync($"/users/{u.Id}")).JsonAsync()));
                var activeAdmins = accounts.Count(u => u.GetProperty("role").GetString() == "admin" && u.GetProperty("is_active").GetBoolean());
                survivors.Add($"{activeAdmins} active admin(s) left, answers {(int)answers[0].StatusCode} and {(int)answers[1].StatusCode}");
            }
        }
        Assert.All(survivors, outcome => Assert.StartsWith("1 active admin(s)", outcome));
    }

    [Fact]
    public async Task A_password_change_ends_the_other_sessions_at_their_next_request_and_keeps_this_one()
    {
        var (_, user) = await shop.NewUserAsync();
        var (thisAccess, thisRefresh) = await shop.Client().SignInAsync(user.Email, user.Password);
        var (otherAccess, otherRefresh) = await shop.Client().SignInAsync(user.Email, user.Password);

        await (await shop.Client(thisAccess).PatchJsonAsync($"/users/{user.Id}", new { password = "a-new-password-1", current_password = user.Password })).ExpectAsync(200);

        foreach (var route in SignedInRoutes)
        {
            await (await shop.Client(otherAccess).GetAsync(route)).ExpectProblemAsync(401);
        }
        await (await shop.Client().RefreshAsync(otherRefresh)).ExpectProblemAsync(401);
        // This session's access token carries the old stamp too; its refresh token gives a current one.
        await (await shop.Client(thisAccess).GetAsync("/users/me")).ExpectProblemAsync(401);
        var refreshed = await shop.Client().RefreshAsync(thisRefresh);
        await refreshed.ExpectAsync(200);
        var access = (await refreshed.JsonAsync()).GetProperty("access_token").GetString();
        await (await shop.Client(access).GetAsync("/orders/")).ExpectAsync(200);
    }

    [Fact]
    public async Task Refresh_rotates_the_token_and_reusing_a_rotated_one_revokes_the_session()
    {
        var (_, user) = await shop.NewUserAsync();
        var (_, first) = await shop.Client().SignInAsync(user.Email, user.Password);

        var rotated = await shop.Client().RefreshAsync(first);
        await rotated.ExpectAsync(200);
        var body = await rotated.JsonAsync();
        var second = body.GetProperty("refresh_token").GetString()!;
        var access = body.GetProperty("access_token").GetString()!;
        Assert.NotEqual(first, second);
        await (await shop.Client(access).GetAsync("/orders/")).ExpectAsync(200);

        // The first token was used once: presenting it again looks like theft, so the whole session ends.
        var reuse = await shop.Client().RefreshAsync(first);
        var problem = await reuse.ExpectProblemAsync(401);
        Assert.Contains("already used", problem.GetProperty("detail").GetString());
        await (await shop.Client().RefreshAsync(second)).ExpectProblemAsync(401);
        await (await shop.Client(access).GetAsync("/orders/")).ExpectProblemAsync(401);
    }

    /// <summary>
    /// Every refresh gives the session's next token another <c>Jwt:RefreshLifetime</c>, so a session refreshed regularly
    /// (by its owner, or by whoever copied its refresh token) must still end <c>Jwt:SessionMaxLifetime</c> (30 days here)
    /// after its sign-in (ASVS 5.0 V7.3.2). The session's start is set back in the database, as if signed in long ago.
    /// </summary>
    [Fact]
    public async Task A_session_refreshed_regularly_still_ends_its_maximum_lifetime_after_the_sign_in()
    {
        var (_, user) = await shop.NewUserAsync();
        var (_, first) = await shop.Client().SignInAsync(user.Email, user.Password);
        await using var db = await shop.OpenDatabaseAsync("usersdb");
        Task SignedInAgo(string ago) => Sql.ExecuteAsync(db,
            "UPDATE refresh_tokens SET session_started_at = now() - @ago::interval WHERE user_id = @id", ("ago", ago), ("id", user.Id));

        // An hour before its end the session still refreshes, to a token that does not outlive it.
        await SignedInAgo("29 days 23 hours");
        var lastHour = await shop.Client().RefreshAsync(first);
        await lastHour.ExpectAsync(200);
        var body = await lastHour.JsonAsync();
        var expiresIn = body.GetProperty("refresh_expires_in").GetInt32();
        Assert.True(expiresIn is > 0 and <= 3600, $"the refresh token of a session ending within the hour lasts {expiresIn} s");

        // Past its end the session's current refresh token, used or not, unexpired as such, is refused.
        await SignedInAgo("30 days 1 minute");
        var problem = await (await shop.Client().RefreshAsync(body.GetProperty("refresh_token").GetString()!)).ExpectProblemAsync(401);
        Assert.Contains("Sign in again", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Two_concurrent_refreshes_with_one_token_yield_one_session_at_most()
    {
        var (_, user) = await shop.NewUserAsync();
        var (_, refresh) = await shop.Client().SignInAsync(user.Email, user.Password);
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => shop.Client().RefreshAsync(refresh)));
        Assert.True(answers.Count(a => a.StatusCode == HttpStatusCode.OK) <= 1, "one refresh token was exchanged more than once");
    }

    [Fact]
    public async Task Logout_ends_the_session_at_every_service_and_its_refresh_token()
    {
        var (_, user) = await shop.NewUserAsync();
        var (access, refresh) = await shop.Client().SignInAsync(user.Email, user.Password);
        var (otherAccess, _) = await shop.Client().SignInAsync(user.Email, user.Password);

        await (await shop.Client(access).PostJsonAsync("/users/logout", null)).ExpectAsync(204);
        foreach (var route in SignedInRoutes)
        {
            await (await shop.Client(access).GetAsync(route)).ExpectProblemAsync(401);
        }
        await (await shop.Client().RefreshAsync(refresh)).ExpectProblemAsync(401);
        // Only that session: the other one goes on.
        await (await shop.Client(otherAccess).GetAsync("/users/me")).ExpectAsync(200);
    }

    /// <summary>A token refused since it was issued (the account was made admin) still names its session for sign-out.</summary>
    [Fact]
    public async Task Logout_with_a_token_issued_before_the_account_changed_still_ends_its_session()
    {
        var (_, user) = await shop.NewUserAsync();
        var (access, refresh) = await shop.Client().SignInAsync(user.Email, user.Password);
        await (await (await shop.AdminAsync()).PatchJsonAsync($"/users/{user.Id}", new { role = "admin" })).ExpectAsync(200);
        await (await shop.Client(access).GetAsync("/users/me")).ExpectProblemAsync(401);

        await (await shop.Client(access).PostJsonAsync("/users/logout", null)).ExpectAsync(204);
        await (await shop.Client().RefreshAsync(refresh)).ExpectProblemAsync(401);
    }

    [Fact]
    public async Task Logout_everywhere_ends_every_session()
    {
        var (_, user) = await shop.NewUserAsync();
        var sessions = new[] { await shop.Client().SignInAsync(user.Email, user.Password), await shop.Client().SignInAsync(user.Email, user.Password) };
        await (await shop.Client(sessions[0].AccessToken).PostJsonAsync("/users/logout-everywhere", null)).ExpectAsync(204);
        foreach (var (access, refresh) in sessions)
        {
            await (await shop.Client(access).GetAsync("/orders/")).ExpectProblemAsync(401);
            await (await shop.Client().RefreshAsync(refresh)).ExpectProblemAsync(401);
        }
        await shop.Client().SignInAsync(user.Email, user.Password);
    }

    /// <summary>
    /// Someone holding a stolen refresh token keeps refreshing while the owner signs out everywhere or changes the
    /// password. Whichever refresh lands while the change is under way, no access token it hands out may outlive the
    /// change: one issued after the stamp rose (and before the sessions were revoked) carried the new stamp and
    /// worked for its whole lifetime.
    /// </summary>
    [Fact]
    public async Task A_refresh_racing_sign_out_everywhere_or_a_password_change_gets_no_access_token_that_outlives_it()
    {
        var survivors = new List<string>();
        for (var round = 0; round < 8; round++)
        {
            var (owner, user) = await shop.NewUserAsync();
            var stolen = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                stolen.Add((await shop.Client().SignInAsync(user.Email, user.Password)).RefreshToken);
            }
            using var stop = new CancellationTokenSource();
            var issued = new System.Collections.Concurrent.ConcurrentBag<string>();
            var thieves = stolen.Select(refresh => Task.Run(async () =>
            {
                var client = shop.Client();
                while (!stop.IsCancellationRequested)
                {
                    var response = await client.RefreshAsync(refresh);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        return;
                    }
                    var body = await response.JsonAsync();
                    refresh = body.GetProperty("refresh_token").GetString()!;
                    issued.Add(body.GetProperty("access_token").GetString()!);
                }
            })).ToList();
            await Task.Delay(100 + 15 * round);
            var change = round % 2 == 0 ? "sign-out everywhere" : "password change";
            if (round % 2 == 0)
            {
                await (await owner.PostJsonAsync("/users/logout-everywhere", null)).ExpectAsync(204);
            }
            else
            {
                await (await owner.PatchJsonAsync($"/users/{user.Id}", new { password = "another-horse-" + round, current_password = user.Password })).ExpectAsync(200);
            }
            // Every thief's next refresh is refused: each chain ends on its own.
            await Task.WhenAll(thieves).WaitAsync(TimeSpan.FromSeconds(30));
            foreach (var access in issued)
            {
                if ((await shop.Client(access).GetAsync("/users/me")).StatusCode == HttpStatusCode.OK)
                {
                    survivors.Add($"round {round} ({change}): an access token from a racing refresh still works");
                }
            }
        }
        Assert.True(survivors.Count == 0, string.Join("\n", survivors));
    }

    /// <summary>
    /// The owner changes a leaked password while the attacker keeps signing in with it. A sign-in whose password was
    /// checked before the change but whose session was stored after the change revoked the others kept a refresh token
    /// that worked on, for the refresh token's whole lifetime: the change meant to end the attacker's access did not.
    /// </summary>
    [Fact]
    public async Task A_sign_in_racing_a_password_change_keeps_no_session_past_it()
    {
        var survivors = new List<string>();
        for (var round = 0; round < 4; round++)
        {
            var (owner, user) = await shop.NewUserAsync();
            var started = new System.Collections.Concurrent.ConcurrentBag<string>();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var attackers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
            {
                var client = shop.Client();
                while (!stop.IsCancellationRequested)
                {
                    var response = await client.PostJsonAsync("/users/login", new { email = user.Email, password = user.Password, return_refresh_token = true });
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        started.Add((await response.JsonAsync()).GetProperty("refresh_token").GetString()!);
                    }
                    else if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                    {
                        return; // the old password is refused now
                    }
                }
            })).ToList();
            await Task.Delay(300 + 50 * round);
            await (await owner.PatchJsonAsync($"/users/{user.Id}", new { password = "another-horse-" + round, current_password = user.Password })).ExpectAsync(200);
            await Task.WhenAll(attackers);
            foreach (var refresh in started)
            {
                if ((await shop.Client().RefreshAsync(refresh)).StatusCode == HttpStatusCode.OK)
                {
                    survivors.Add($"round {round}: a session signed in with the old password still refreshes after the change");
                }
            }
        }
        Assert.True(survivors.Count == 0, string.Join("\n", survivors));
    }

    [Fact]
    public async Task A_browser_gets_the_refresh_token_only_as_a_strict_httponly_host_only_cookie()
    {
        var (_, user) = await shop.NewUserAsync();
        var login = await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password });
        await login.ExpectAsync(200);
        Assert.False((await login.JsonAsync()).TryGetProperty("refresh_token", out _), "refresh token readable by script");
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"), c => c.StartsWith(RefreshCookie + "=", StringComparison.Ordinal));
        var attributes = cookie.Split(';').Select(a => a.Trim().ToLowerInvariant()).ToList();
        Assert.Contains("httponly", attributes);
        Assert.Contains("secure", attributes);
        Assert.Contains("samesite=strict", attributes);
        // What the __Host- prefix needs, or the browser drops the cookie: Path=/ and no Domain.
        Assert.Contains("path=/", attributes);
        Assert.DoesNotContain(attributes, a => a.StartsWith("domain=", StringComparison.Ordinal));
        AssertEndsWithTheBrowser(cookie);

        // The cookie alone refreshes, and the next one comes back as a cookie again, as short-lived in the browser.
        var value = cookie.Split(';')[0];
        var refreshed = await shop.Client().PostJsonAsync("/users/token/refresh", null, r => r.Headers.Add("Cookie", value));
        await refreshed.ExpectAsync(200);
        Assert.False((await refreshed.JsonAsync()).TryGetProperty("refresh_token", out _));
        var next = Assert.Single(refreshed.Headers.GetValues("Set-Cookie"), c => c.StartsWith(RefreshCookie + "=", StringComparison.Ordinal));
        Assert.False(next.StartsWith(value + ";", StringComparison.Ordinal), "the refresh handed the same refresh token back");
        AssertEndsWithTheBrowser(next);

        // A new tab or window of the SPA takes the browser's session from this cookie, so a cookie outliving the browser
        // would sign the next person at a shared computer in as the last shopper, just by opening the shop.
        static void AssertEndsWithTheBrowser(string setCookie) =>
            Assert.False(setCookie.Split(';').Select(a => a.Trim().ToLowerInvariant()).Any(a => a.StartsWith("expires=", StringComparison.Ordinal) || a.StartsWith("max-age=", StringComparison.Ordinal)),
                $"the refresh cookie outlives the browser: {setCookie.Split(';', 2)[1].Trim()}");
    }

    /// <summary>
    /// Script cannot see the refresh cookie, so Users sets a marker beside it: the SPA asks for the browser's session in a
    /// new tab only when the marker says there is one, and a visitor who never signed in sends no refresh to be refused.
    /// It holds no token, and is set and deleted with the refresh cookie (a session cookie, as that one is).
    /// </summary>
    [Fact]
    public async Task A_browser_gets_a_marker_readable_by_script_wherever_it_gets_the_refresh_cookie_and_loses_it_with_it()
    {
        var email = $"marker-{Guid.NewGuid():N}@example.com";
        var register = await shop.Client().PostJsonAsync("/users/register", new { name = "Marker", email, password = "marker-pass-1" });
        await register.ExpectAsync(201);
        AssertMarkerSet(register);
        var login = await shop.Client().PostJsonAsync("/users/login", new { email, password = "marker-pass-1" });
        await login.ExpectAsync(200);
        AssertMarkerSet(login);
        var used = RefreshCookieOf(login);
        var refreshed = await shop.Client().PostJsonAsync("/users/token/refresh", null, r => r.Headers.Add("Cookie", used));
        await refreshed.ExpectAsync(200);
        AssertMarkerSet(refreshed);

        // A refused refresh (here a used token again, which ends the session) deletes both.
        var refused = await shop.Client().PostJsonAsync("/users/token/refresh", null, r => r.Headers.Add("Cookie", used));
        await refused.ExpectProblemAsync(401);
        var deleted = refused.Headers.GetValues("Set-Cookie").ToList();
        Assert.Contains(deleted, c => c.StartsWith(RefreshCookie + "=;", StringComparison.Ordinal));
        var marker = Assert.Single(deleted, c => c.StartsWith("shop_session=", StringComparison.Ordinal));
        Assert.StartsWith("shop_session=;", marker, StringComparison.Ordinal);
        Assert.Contains("path=/", Attributes(marker)); // the marker's own path, or the browser keeps it

        static void AssertMarkerSet(HttpResponseMessage response)
        {
            var marker = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("shop_session=", StringComparison.Ordinal));
            Assert.Equal("shop_session=1", marker.Split(';')[0]); // no token
            var attributes = Attributes(marker);
            Assert.DoesNotContain("httponly", attributes);
            Assert.Contains("secure", attributes);
            Assert.Contains("samesite=strict", attributes);
            Assert.Contains("path=/", attributes);
            Assert.False(attributes.Any(a => a.StartsWith("expires=", StringComparison.Ordinal) || a.StartsWith("max-age=", StringComparison.Ordinal)),
                $"the marker outlives the browser: {marker}");
        }
        static string RefreshCookieOf(HttpResponseMessage response) =>
            response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(RefreshCookie + "=", StringComparison.Ordinal)).Split(';')[0];
        static List<string> Attributes(string setCookie) => [.. setCookie.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant())];
    }

    /// <summary>
    /// One browser, two people: Alice's tab is still open when Bob signs in from another tab, and the browser's one
    /// refresh cookie becomes Bob's. Alice signing out (or out everywhere) ends her sessions; it must not delete the
    /// cookie, which a browser never sends to the sign-out routes, so Users cannot tell it is Bob's. A cookie left
    /// behind by a sign-out is a revoked token: the next refresh refuses it and deletes it then.
    /// </summary>
    [Fact]
    public async Task Signing_out_does_not_delete_a_browsers_refresh_cookie_it_cannot_see()
    {
        var (_, alice) = await shop.NewUserAsync();
        var (_, bob) = await shop.NewUserAsync();
        var (aliceTab, _) = await BrowserSignInAsync(alice.Email, alice.Password);
        var (aliceOtherTab, aliceCookie) = await BrowserSignInAsync(alice.Email, alice.Password);
        var (_, bobCookie) = await BrowserSignInAsync(bob.Email, bob.Password);

        foreach (var (route, access) in new[] { ("/users/logout", aliceTab), ("/users/logout-everywhere", aliceOtherTab) })
        {
            var signedOut = await shop.Client(access).PostJsonAsync(route, null);
            await signedOut.ExpectAsync(204);
            Assert.False(signedOut.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(RefreshCookie + "=", StringComparison.Ordinal)),
                $"{route} answered with a Set-Cookie for {RefreshCookie}, which deletes the browser's cookie, here Bob's");
        }

        var asBob = await shop.Client().PostJsonAsync("/users/token/refresh", null, r => r.Headers.Add("Cookie", bobCookie));
        await asBob.ExpectAsync(200);
        Assert.Equal(bob.Id, (await asBob.JsonAsync()).GetProperty("user").GetProperty("id").GetInt32());

        var leftBehind = await shop.Client().PostJsonAsync("/users/token/refresh", null, r => r.Headers.Add("Cookie", aliceCookie));
        await leftBehind.ExpectProblemAsync(401);
        Assert.Contains(leftBehind.Headers.GetValues("Set-Cookie"), c => c.StartsWith(RefreshCookie + "=;", StringComparison.Ordinal));
    }

    /// <summary>
    /// A sibling host of the shop's site (a compromised or user-content subdomain, or a man in the middle on its http)
    /// can toss a cookie of the same name for the whole site, on a longer path so the browser sends it first: the browser
    /// then sends two. Picking either could restore the attacker's session in the shopper's browser (login CSRF), so
    /// neither is used and both are deleted (the tossed one, set for the parent domain, only stops being sent once this
    /// host's own cookie is back, after a sign-in, which the prefixed name then always wins).
    /// </summary>
    [Fact]
    public async Task A_refresh_presenting_two_refresh_cookies_of_one_name_is_refused_and_clears_them()
    {
        var (_, victim) = await shop.NewUserAsync();
        var (_, attacker) = await shop.NewUserAsync();
        var (_, victimCookie) = await BrowserSignInAsync(victim.Email, victim.Password);
        var (_, attackerToken) = await shop.Client().SignInAsync(attacker.Email, attacker.Password);
        var victimToken = victimCookie.Split('=', 2)[1];

        {
            var refused = await shop.Client().PostJsonAsync("/users/token/refresh", null,
                r => r.Headers.Add("Cookie", $"{RefreshCookie}={attackerToken}; {RefreshCookie}={victimToken}; shop_session=1"));
            var problem = await refused.ExpectProblemAsync(401);
            Assert.Contains("more than one", problem.GetProperty("detail").GetString());
            var cookies = refused.Headers.GetValues("Set-Cookie").ToList();
            Assert.Contains(cookies, c => c.StartsWith(RefreshCookie + "=;", StringComparison.Ordinal));
            Assert.Contains(cookies, c => c.StartsWith(OldRefreshCookie + "=;", StringComparison.Ordinal) && c.Contains("path=/users/token", StringComparison.OrdinalIgnoreCase));
            Assert.Contains(cookies, c => c.StartsWith("shop_session=;", StringComparison.Ordinal));
        }
        // Neither token was used: both sessions are as they were.
        await (await shop.Client().RefreshAsync(attackerToken)).ExpectAsync(200);
        await (await shop.Client().PostJsonAsync("/users/token/refresh", null, r => r.Headers.Add("Cookie", victimCookie))).ExpectAsync(200);
    }

    /// <summary>
    /// A browser signed in before the refresh cookie got its prefix holds it under the old name, on the old path. That name
    /// is never read: any host of the site can set a cookie of that name, so honouring it, even only where the prefixed one
    /// is absent, would let a sibling toss its own session into a signed-out browser. The browser is asked to sign in again
    /// (once), and the old cookie and the marker are deleted; beside the prefixed one, the old one is ignored and deleted.
    /// </summary>
    [Fact]
    public async Task A_refresh_cookie_under_the_old_name_is_never_used_and_is_deleted()
    {
        var (_, user) = await shop.NewUserAsync();
        var (_, oldToken) = await shop.Client().SignInAsync(user.Email, user.Password);

        var refused = await shop.Client().PostJsonAsync("/users/token/refresh", null, r => r.Headers.Add("Cookie", $"{OldRefreshCookie}={oldToken}; shop_session=1"));
        var problem = await refused.ExpectProblemAsync(401);
        Assert.Contains("earlier version", problem.GetProperty("detail").GetString());
        var cookies = refused.Headers.GetValues("Set-Cookie").ToList();
        var deleted = Assert.Single(cookies, c => c.StartsWith(OldRefreshCookie + "=", StringComparison.Ordinal));
        Assert.StartsWith(OldRefreshCookie + "=;", deleted, StringComparison.Ordinal);
        Assert.Contains("path=/users/token", deleted, StringComparison.OrdinalIgnoreCase); // the old cookie's path, or the browser keeps it
        Assert.Contains(cookies, c => c.StartsWith("shop_session=;", StringComparison.Ordinal));
        // Not used: the session it names is as it was.
        await (await shop.Client().RefreshAsync(oldToken)).ExpectAsync(200);

        // A stale (or tossed) cookie under the old name beside the current one is left unused and deleted.
        var (_, current) = await BrowserSignInAsync(user.Email, user.Password);
        var (_, stranger) = await shop.NewUserAsync();
        var (_, strangerToken) = await shop.Client().SignInAsync(stranger.Email, stranger.Password);
        var both = await shop.Client().PostJsonAsync("/users/token/refresh", null, r => r.Headers.Add("Cookie", $"{OldRefreshCookie}={strangerToken}; {current}"));
        await both.ExpectAsync(200);
        Assert.Equal(user.Id, (await both.JsonAsync()).GetProperty("user").GetProperty("id").GetInt32());
        Assert.Contains(both.Headers.GetValues("Set-Cookie"), c => c.StartsWith(OldRefreshCookie + "=;", StringComparison.Ordinal));
    }

    /// <summary>
    /// With Path=/ the browser sends the refresh cookie with every request to the shop. The gateway forwards it only to
    /// the route that reads it (/users/token/refresh): not to Orders, Inventory, the web app or the rest of Users. Seen
    /// here at the sign-out, which ends the session a refresh token it is given names: a cookie that reached it would end
    /// the session, and the signing-out tab cannot tell whose cookie the browser holds (another user's, signed in since).
    /// </summary>
    [Fact]
    public async Task The_gateway_forwards_the_refresh_cookie_only_to_the_refresh_route()
    {
        var (_, user) = await shop.NewUserAsync();
        var (_, token) = await shop.Client().SignInAsync(user.Email, user.Password);
        await (await shop.Client().PostJsonAsync("/users/logout", null, r => r.Headers.Add("Cookie", $"{RefreshCookie}={token}"))).ExpectAsync(204);
        var refreshed = await shop.Client().PostJsonAsync("/users/token/refresh", null, r => r.Headers.Add("Cookie", $"{RefreshCookie}={token}"));
        Assert.True(refreshed.StatusCode == HttpStatusCode.OK,
            $"the cookie {RefreshCookie} reached /users/logout, which ended its session: the refresh then answered {(int)refreshed.StatusCode}");
    }

    [Fact]
    public async Task A_refresh_with_only_the_session_marker_is_refused_and_deletes_the_marker()
    {
        // A marker whose refresh cookie is gone (deleted, or never set on this path): left in place, every new tab of
        // the browser would send a refresh only to be refused, for the rest of the browser session.
        var refused = await shop.Client().PostJsonAsync("/users/token/refresh", null, r => r.Headers.Add("Cookie", "shop_session=1"));
        await refused.ExpectProblemAsync(401);
        Assert.True(refused.Headers.TryGetValues("Set-Cookie", out var cookies), "the refused refresh set no cookie, so the marker stays");
        Assert.Contains(cookies!, c => c.StartsWith("shop_session=;", StringComparison.Ordinal) && c.Contains("path=/", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Signs in as a browser does: the refresh token comes back only as the cookie (returned as "name=value").</summary>
    private async Task<(string Access, string Cookie)> BrowserSignInAsync(string email, string password)
    {
        var login = await shop.Client().PostJsonAsync("/users/login", new { email, password });
        await login.ExpectAsync(200);
        var access = (await login.JsonAsync()).GetProperty("access_token").GetString()!;
        return (access, login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(RefreshCookie + "=", StringComparison.Ordinal)).Split(';')[0]);
    }

    [Fact]
    public async Task Access_tokens_are_typed_at_jwt_short_lived_and_carry_jti_stamp_and_session()
    {
        var (_, user) = await shop.NewUserAsync();
        var token = new JsonWebToken(user.Token);
        Assert.Equal("at+jwt", token.Typ);
        Assert.False(string.IsNullOrEmpty(token.Id));
        Assert.True(token.TryGetPayloadValue<string>("sid", out _));
        Assert.True(token.TryGetPayloadValue<int>("sst", out _));
        Assert.InRange(token.ValidTo - token.IssuedAt, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15));
    }

    [Fact]
    public async Task Changing_ones_own_email_needs_the_current_password_and_an_admin_change_does_not()
    {
        var (client, user) = await shop.NewUserAsync();
        var email = $"moved-{Guid.NewGuid():N}@example.com";
        await (await client.PatchJsonAsync($"/users/{user.Id}", new { email })).ExpectValidationAsync("current_password");
        await (await client.PatchJsonAsync($"/users/{user.Id}", new { email, current_password = "not-my-password" })).ExpectValidationAsync("current_password");
        await (await client.PatchJsonAsync($"/users/{user.Id}", new { email, current_password = user.Password })).ExpectAsync(200);
        await shop.Client().SignInAsync(email, user.Password);

        var admin = await shop.AdminAsync();
        var byAdmin = $"admin-set-{Guid.NewGuid():N}@example.com";
        await (await admin.PatchJsonAsync($"/users/{user.Id}", new { email = byAdmin })).ExpectAsync(200);
        await shop.Client().SignInAsync(byAdmin, user.Password);
    }

    /// <summary>
    /// A current-password check is a password guess: with only a stolen access token, an attacker gets the same
    /// five free guesses as at sign-in, then waits; and the limits are shared, so guesses made one way count
    /// the other way too (the owner's right password is refused while the delay lasts, as at sign-in).
    /// </summary>
    [Fact]
    public async Task Wrong_current_passwords_count_against_the_sign_in_limits()
    {
        var (client, user) = await shop.NewUserAsync();
        for (var i = 0; i < 5; i++)
        {
            await (await client.PatchJsonAsync($"/users/{user.Id}", new { password = "new-password-1", current_password = "guess-" + i }))
                .ExpectValidationAsync("current_password");
        }
        // Two more guesses, each once the delay allows it: the delay doubles to 4 s, so the two checks below (two round
        // trips) fall inside it even on a loaded machine. After the fifth alone it is 1 s.
        for (var i = 5; i < 7; i++)
        {
            HttpResponseMessage guess;
            while ((guess = await client.PatchJsonAsync($"/users/{user.Id}", new { password = "new-password-1", current_password = "guess-" + i })).StatusCode == HttpStatusCode.TooManyRequests)
            {
                await Task.Delay(guess.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
            }
            await guess.ExpectValidationAsync("current_password");
        }
        var rightPassword = await client.PatchJsonAsync($"/users/{user.Id}", new { password = "new-password-1", current_password = user.Password });
        await rightPassword.ExpectProblemAsync(429);
        Assert.True(rightPassword.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After");
        await (await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password })).ExpectProblemAsync(429);
        // Nothing was changed: the old password still signs in once the delay has passed.
        await Task.Delay(rightPassword.Headers.RetryAfter!.Delta!.Value);
        await shop.Client().SignInAsync(user.Email, user.Password);
    }

    /// <summary>
    /// An IPv6 client picks any address of its /64 at will: Users counts sign-ins by the /64, as the gateway's
    /// limits do. Straight to Users, which believes X-Forwarded-For from loopback (the gateway's place).
    /// </summary>
    [Fact]
    public async Task Addresses_in_one_ipv6_64_count_as_one_client_at_sign_in()
    {
        var (_, user) = await shop.NewUserAsync();
        var users = shop.ServiceClient("users", withServiceKey: false);
        Task<HttpResponseMessage> Guess(int i) => users.PostJsonAsync("/users/login", new { email = user.Email, password = "v6-guess-" + i },
            r => r.Headers.Add("X-Forwarded-For", $"2001:db8:5:6::{i + 1:x}"));
        for (var i = 0; i < 5; i++)
        {
            await (await Guess(i)).ExpectProblemAsync(401);
        }
        // Five free attempts per account and client, and this is the same client: the five failures are counted in its /64's
        // scope, and its sixth address waits (the one-second delay made ten minutes, so that a slow round trip cannot outlast it).
        await shop.ProlongSignInDelayAsync(user.Email, "2001:db8:5:6::/64", failures: 5);
        AssertRefusedUnchecked(await Guess(5));
    }

    [Fact]
    public async Task A_burst_of_concurrent_wrong_passwords_gets_at_most_five_checked()
    {
        var (_, user) = await shop.NewUserAsync();
        // Each guess also claims another client address: the gateway's X-Forwarded-For is what counts, not the client's.
        var burst = System.Diagnostics.Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = "burst-guess-" + i },
                r => r.Headers.Add("X-Forwarded-For", $"198.51.100.{i + 1}"))));
        burst.Stop();
        var checkedGuesses = answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized);
        var allowed = GuessesCheckedAtMost(burst.Elapsed);
        Assert.True(checkedGuesses <= allowed,
            $"{checkedGuesses} of 20 concurrent guesses had their password checked in {burst.Elapsed.TotalMilliseconds:0} ms (allowed: {allowed})");
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Unauthorized), AssertRefusedUnchecked);
    }

    /// <summary>
    /// A guess the throttle did not let through: 429 past the free attempts, or 503 when Redis did not
    /// answer the count in time (it may have been made, so the guess is not checked); both say when to retry.
    /// </summary>
    internal static void AssertRefusedUnchecked(HttpResponseMessage answer)
    {
        Assert.True(answer.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable,
            $"a guess was answered {(int)answer.StatusCode}");
        Assert.True(answer.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"{(int)answer.StatusCode} without Retry-After");
    }

    /// <summary>
    /// How many wrong passwords for one account (from one address) may be checked within <paramref name="elapsed"/>:
    /// five free attempts, then one more each time a delay (1 s, 2 s, 4 s…) has run out. On a busy machine a
    /// "burst" can last longer than the first delay, and the throttle then rightly lets one more through.
    /// </summary>
    internal static int GuessesCheckedAtMost(TimeSpan elapsed)
    {
        var delaysRunOut = 0;
        while (TimeSpan.FromSeconds(Math.Pow(2, delaysRunOut + 1) - 1) <= elapsed)
        {
            delaysRunOut++;
        }
        return 5 + delaysRunOut;
    }

    [Fact]
    public async Task After_an_attackers_failures_the_owner_signs_in_once_the_delay_has_passed()
    {
        var (_, user) = await shop.NewUserAsync();
        for (var i = 0; i < 6; i++)
        {
            var guess = await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = "attacker-guess-" + i });
            if (guess.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var delay = guess.Headers.RetryAfter!.Delta!.Value;
                Assert.True(delay <= TimeSpan.FromSeconds(16), $"after {i} failures the account is locked for {delay}: a lock-out anyone can renew for the owner");
                await Task.Delay(delay);
            }
        }
        // The delay grows with each failure, but it is a delay: it ends, and the owner gets in.
        var waited = TimeSpan.Zero;
        while (true)
        {
            var attempt = await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password });
            if (attempt.StatusCode != HttpStatusCode.TooManyRequests)
            {
                await attempt.ExpectAsync(200);
                break;
            }
            var delay = attempt.Headers.RetryAfter!.Delta!.Value;
            Assert.InRange(delay, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(16));
            waited += delay;
            Assert.True(waited < TimeSpan.FromSeconds(30), "the owner was kept out for more than 30 s after six failures");
            await Task.Delay(delay);
        }
    }

    [Fact]
    public async Task An_attempt_whose_end_never_reached_Redis_stops_counting_and_the_owner_gets_in()
    {
        var (_, user) = await shop.NewUserAsync();
        for (var i = 0; i < 4; i++)
        {
            await (await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = "attacker-guess-" + i })).ExpectAsync(401);
        }
        // What a sign-in leaves in its scope when Redis counted its start but its end was lost (a timeout
        // or a dropped connection between the two): one attempt still in flight, here begun three minutes
        // ago. With four failures that made five, and every later attempt waited for it to end: the owner
        // was kept out until the scope's 15-minute window ran out. Each attempt in flight is a field
        // "a:<attempt id>" holding the time it began.
        await using var redis = await shop.ConnectRedisAsync();
        var scope = ShopAppHost.SignInScope(user.Email, "127.0.0.1");
        var users = redis.GetDatabase(0);
        Assert.True(await users.KeyExistsAsync(scope), $"no throttle scope {scope}: the test no longer matches how the throttle stores its scopes");
        await users.HashSetAsync(scope, "a:lost", DateTimeOffset.UtcNow.AddMinutes(-3).ToUnixTimeMilliseconds());

        var owner = await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password });
        Assert.True(owner.StatusCode == HttpStatusCode.OK,
            $"the owner's sign-in got {(int)owner.StatusCode} (Retry-After {owner.Headers.RetryAfter?.Delta}) behind an attempt abandoned three minutes ago");
    }
}
