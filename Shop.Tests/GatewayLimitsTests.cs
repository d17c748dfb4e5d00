using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The gateway's rate limits, with the production defaults. Each test's clients connect from their own
/// loopback address (127.0.0.2 …); the rest of the suite is 127.0.0.1, which the test app exempts
/// (ShopApp explains why). Run alone, after the parallel tests: what reaches Users during a test is then that test's.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class GatewayLimitsTests(ShopApp shop)
{
    /// <summary>The attacker's answers counted from the other client's sign-in on: what would reach Users without the limit.</summary>
    private const int AttackInWindow = 50;

    /// <summary>The gateway's sign-in bucket refills this many at once (RateLimiting:SignIn:TokensPerPeriod).</summary>
    private const int SignInRefill = 10;

    /// <summary>Users' routing line (Debug, which the test app writes) for each sign-in it handles.</summary>
    private const string UsersSignInRouted = "for the request path '/users/login'";

    [Fact]
    public async Task Hammering_login_with_rotating_emails_gets_429s_that_never_reach_users_while_another_clients_sign_in_succeeds()
    {
        var (_, user) = await shop.NewUserAsync();
        var attacker = shop.ClientFrom(IPAddress.Parse("127.0.0.2"));
        var statuses = new ConcurrentBag<HttpStatusCode>();
        HttpResponseMessage? rejected = null;
        var lastAnswers = new int[4];
        using var stop = new CancellationTokenSource();
        // Four loops, each pausing a few milliseconds between requests: several hundred sign-ins a second from
        // one address. Unpaced, the attacker's own client took as much of this machine's two cores as it could,
        // CPU a real attacker spends on its own machines.
        var hammering = Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var answer = await attacker.PostJsonAsync("/users/login", new { email = $"spray-{worker}-{i}-{Guid.NewGuid():N}@example.com", password = "Summer2026!" });
                statuses.Add(answer.StatusCode);
                Volatile.Write(ref lastAnswers[worker], (int)answer.StatusCode);
                if (answer.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Interlocked.CompareExchange(ref rejected, answer, null);
                }
                await Task.Delay(4);
            }
        })));

        // Once the attacker's burst is spent and answered — every one of its loops is being refused (or
        // after 20 s, when nothing limits it) — and while it keeps hammering:
        await Eventually.HoldsAsync(() => lastAnswers.All(a => a == 429), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));
        var answeredBefore = statuses.Count;
        var from = DateTimeOffset.UtcNow;
        var owner = await shop.ClientFrom(IPAddress.Parse("127.0.0.3")).PostJsonAsync("/users/login", new { email = user.Email, password = user.Password });
        // The window closes once the attacker has had AttackInWindow more answers, however long this machine takes for them.
        var attackInWindow = await Eventually.ReadUntilAsync(() => Task.FromResult(statuses.Count - answeredBefore),
            n => n >= AttackInWindow, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10));
        var until = DateTimeOffset.UtcNow;
        await stop.CancelAsync();
        await hammering;

        var counts = string.Join(", ", statuses.GroupBy(s => (int)s).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"));
        // What the limit is for, whatever the machine's speed: while the other client signs in, the attack costs Users
        // nothing. Each sign-in Users handled is one routing line of its log; in the window, the other client's and at
        // most one refill of the attacker's bucket, against the AttackInWindow (50) or more the attacker had answered.
        Assert.True(attackInWindow >= AttackInWindow, $"the attacker had only {attackInWindow} answers in 30 s after the other client's sign-in began, not an attack ({counts})");
        var reachedUsers = (await shop.LogLinesAsync("users", from, until)).Count(l => l.Contains(UsersSignInRouted, StringComparison.Ordinal));
        Assert.True(reachedUsers - 1 <= SignInRefill,
            $"{reachedUsers - 1} of the attacker's {attackInWindow} sign-ins answered from the other client's sign-in on reached Users ({counts})");
        Assert.True(rejected is not null, $"the attacker was never limited ({counts})");
        var problem = await rejected.ExpectProblemAsync(429);
        Assert.True(rejected.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After");
        Assert.Contains("sign-in", problem.GetProperty("detail").GetString());
        Assert.True(statuses.Count(s => s == HttpStatusCode.Unauthorized) <= 15, $"too many of the attacker's passwords were checked ({counts})");
        await owner.ExpectAsync(200);
    }

    [Fact]
    public async Task Forged_tokens_share_their_addresss_order_budget_and_a_signed_in_user_there_keeps_its_own()
    {
        var address = IPAddress.Parse("127.0.0.4");
        var sku = await shop.NewItemAsync();
        var (_, user) = await shop.NewUserAsync();

        // Unsigned tokens claiming 40 different users: were the claim trusted, each would get a fresh budget.
        var answers = new List<HttpStatusCode>();
        for (var sub = 1; sub <= 40; sub++)
        {
            var forged = shop.ClientFrom(address, ForgedToken(sub));
            answers.Add((await forged.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } })).StatusCode);
        }
        var counts = string.Join(", ", answers.GroupBy(s => (int)s).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"));
        Assert.True(answers.Count(s => s == HttpStatusCode.TooManyRequests) >= 20, $"forged tokens escaped the address's order limit ({counts})");

        // A real user at the same address is counted as itself, not as the address that was abused.
        await shop.ClientFrom(address, user.Token).PlaceOrderAsync((sku, 1));
    }

    /// <summary>
    /// A token the gateway has not seen costs it a signature check (ES256, with each key of the JWKS when the token names
    /// none) before it knows whose budget the request draws from, so the address's request budget, taken after that
    /// check, could not bound it. Tokens that fail the check draw from their address's own small budget, and past it
    /// an unseen token is refused unchecked; a token the gateway has already checked, and a request without one, are not held.
    /// </summary>
    [Fact]
    public async Task Tokens_that_fail_their_signature_check_are_held_to_a_budget_of_their_address_and_a_checked_token_there_is_not()
    {
        var address = IPAddress.Parse("127.0.0.7");
        var (_, user) = await shop.NewUserAsync();
        var owner = shop.ClientFrom(address, user.Token);
        // The owner's token is checked once, before the forgeries.
        await (await owner.GetAsync("/orders/")).ExpectAsync(200);

        // Four loops of distinct tokens (a checked one would be remembered) with signatures of ES256's length, until one
        // is refused and each loop has sent 40, or 400 in all.
        var answers = new ConcurrentQueue<HttpResponseMessage>();
        var sent = 0;
        var elapsed = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; (i < 40 || answers.All(a => a.StatusCode != HttpStatusCode.TooManyRequests)) && Interlocked.Increment(ref sent) <= 400; i++)
            {
                answers.Enqueue(await shop.ClientFrom(address, ForgedToken(worker * 1000 + i, RandomNumberGenerator.GetBytes(64))).GetAsync("/orders/"));
            }
        })));
        elapsed.Stop();
        var counts = string.Join(", ", answers.GroupBy(a => (int)a.StatusCode).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"));
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
        // The budget: 60 at once, then 20 at each second's refill.
        var checkedAtMost = 60 + 20 * ((int)elapsed.Elapsed.TotalSeconds + 1);
        Assert.True(answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized) <= checkedAtMost,
            $"forged tokens from one address were checked past its budget ({counts} in {elapsed.Elapsed.TotalMilliseconds:0} ms; at most {checkedAtMost} checked)");
        var refused = answers.First(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        var problem = await refused.ExpectProblemAsync(429);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After");
        Assert.Contains("not valid", problem.GetProperty("detail").GetString());

        // With the budget spent (until its next refill), the address's checked token and its requests without one are
        // answered as before.
        await (await owner.GetAsync("/orders/")).ExpectAsync(200);
        // No token: counted against the address's request budget (600 at once), which these requests leave far from empty.
        await (await shop.ClientFrom(address).GetAsync("/orders/")).ExpectProblemAsync(401);
    }

    /// <summary>
    /// A token refresh checks no password, and a shopper makes many: each tab of the web app refreshes its own access
    /// token every few minutes, and a new tab signs in by one. So refreshes have a budget of their own, larger than sign-in's.
    /// </summary>
    [Fact]
    public async Task A_session_refreshed_twenty_times_in_a_row_from_one_address_is_never_refused()
    {
        var address = IPAddress.Parse("127.0.0.8");
        var (_, user) = await shop.NewUserAsync();
        var client = shop.ClientFrom(address);
        var signedIn = await (await client.PostJsonAsync("/users/login", new { email = user.Email, password = user.Password, return_refresh_token = true })).JsonAsync();
        var refreshToken = signedIn.GetProperty("refresh_token").GetString()!;
        for (var i = 1; i <= 20; i++)
        {
            var refreshed = await client.RefreshAsync(refreshToken);
            Assert.True(refreshed.StatusCode == HttpStatusCode.OK, $"refresh {i} of 20 was answered {(int)refreshed.StatusCode}: {await refreshed.Content.ReadAsStringAsync()}");
            refreshToken = (await refreshed.JsonAsync()).GetProperty("refresh_token").GetString()!;
        }
    }

    /// <summary>
    /// A change of one's own email checks the current password: a hash as costly as a sign-in. From one address, spread
    /// over accounts of its own, such changes are held to the address's budget (10 at once), not to each account's
    /// 100 requests a second; an admin's changes to other accounts there (no password checked) are not counted with them.
    /// </summary>
    [Fact]
    public async Task Changes_to_ones_own_account_are_held_to_the_addresss_budget_whatever_the_account()
    {
        var address = IPAddress.Parse("127.0.0.6");
        // One change per account (an account's concurrent changes could meet Users' concurrency check instead).
        var accounts = (await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => shop.NewUserAsync()))).Select(created => created.User).ToList();
        var admin = shop.ClientFrom(address, (await shop.AdminAsync()).Token);
        // All at once: the gateway decides each before Users checks any password, so a slow machine's hashing cannot
        // let the bucket refill (one token every 6 s) in between.
        var answers = await Task.WhenAll(accounts.Select(account =>
            shop.ClientFrom(address, account.Token).PatchJsonAsync($"/users/{account.Id}", new { email = account.Email, current_password = account.Password })));
        // Right after the burst, with the address's bucket empty: the admin at the same address renames each account.
        // Not a change of its own account and no password checked, so not counted there.
        foreach (var account in accounts.Take(3))
        {
            await (await admin.PatchJsonAsync($"/users/{account.Id}", new { name = "Renamed by the admin" })).ExpectAsync(200);
        }
        var counts = string.Join(", ", answers.GroupBy(a => (int)a.StatusCode).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"));
        Assert.True(answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests) >= 5, $"the address's account changes were not limited to its burst of 10 ({counts})");
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        var refused = answers.First(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        var problem = await refused.ExpectProblemAsync(429);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After");
        Assert.Contains("email or password", problem.GetProperty("detail").GetString());
    }

    private static string ForgedToken(int sub) => ForgedToken(sub, Encoding.UTF8.GetBytes("not a signature"));

    private static string ForgedToken(int sub, byte[] signature)
    {
        static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        static string Part(string json) => Base64Url(Encoding.UTF8.GetBytes(json));
        var expires = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        return $"{Part("""{"alg":"ES256","typ":"at+jwt"}""")}.{Part($$"""{"sub":"{{sub}}","iss":"shop-users","aud":"shop","exp":{{expires}}}""")}.{Base64Url(signature)}";
    }
}
