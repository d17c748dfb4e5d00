using System.Net;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>The Users API (accounts, sign-in, admin) through the gateway.</summary>
public sealed class UsersTests(ShopApp shop)
{
    [Fact]
    public async Task Register_returns_201_token_response_with_role_user()
    {
        var email = $"New.User-{Guid.NewGuid():N}@Example.com";
        var response = await shop.Client().PostJsonAsync("/users/register", new { name = "New User", email, password = "s3cret-pass", role = "admin", is_active = false });
        await response.ExpectAsync(201);
        var body = await response.JsonAsync();
        Assert.Equal("bearer", body.GetProperty("token_type").GetString());
        Assert.Equal(600, body.GetProperty("expires_in").GetInt32());
        var user = body.GetProperty("user");
        Assert.Equal("user", user.GetProperty("role").GetString());
        Assert.True(user.GetProperty("is_active").GetBoolean());
        Assert.False(user.TryGetProperty("password_hash", out _));
        Assert.False(user.TryGetProperty("password", out _));
        Assert.EndsWith("Z", user.GetProperty("created_at").GetString());
    }

    /// <summary>An account's created_at in the registration's answer is the one every read shows (to the microsecond PostgreSQL keeps).</summary>
    [Fact]
    public async Task An_accounts_created_at_in_the_registration_answer_is_the_time_every_read_shows()
    {
        var registered = await shop.Client().PostJsonAsync("/users/register", new { name = "Clock", email = $"clock-{Guid.NewGuid():N}@example.com", password = "s3cret-pass" });
        await registered.ExpectAsync(201);
        var body = await registered.JsonAsync();
        var me = await (await shop.Client(body.GetProperty("access_token").GetString()).GetAsync("/users/me")).JsonAsync();
        body.GetProperty("user").SameAsRead(me, "the 201 answer", "created_at");
    }

    [Fact]
    public async Task Email_is_unique_case_insensitively()
    {
        var (_, user) = await shop.NewUserAsync();
        var response = await shop.Client().PostJsonAsync("/users/register", new { name = "Dup", email = user.Email.ToUpperInvariant(), password = "another-pass" });
        await response.ExpectProblemAsync(409);
    }

    /// <summary>
    /// An email change to another account's address is a 409 and changes nothing: the save, refused by
    /// the unique index inside the change's transaction, leaves the transaction failed, and its COMMIT rolls it back.
    /// </summary>
    [Fact]
    public async Task An_email_change_to_another_accounts_address_is_409_and_changes_nothing()
    {
        var (_, other) = await shop.NewUserAsync();
        var (client, user) = await shop.NewUserAsync();
        var refused = await (await client.PatchJsonAsync($"/users/{user.Id}", new { email = other.Email.ToUpperInvariant(), current_password = user.Password }))
            .ExpectProblemAsync(409);
        Assert.Equal("Email already registered", refused.GetProperty("title").GetString());
        // The next change's answer is the account as read from the database (a read of it may come from the cache).
        var after = await client.PatchJsonAsync($"/users/{user.Id}", new { name = "Later" });
        await after.ExpectAsync(200);
        Assert.Equal(user.Email, (await after.JsonAsync()).GetProperty("email").GetString());
    }

    /// <summary>
    /// Uniqueness is on the address trimmed and lower-cased in .NET (<c>normalized_email</c>, a plain unique index; the
    /// database lower-cases nothing), so an address that only looks like another one was a second account beside it:
    /// "kım@" (dotless ı) beside "kim@". A new address, at registration or an email change, is ASCII; an account that
    /// already has another one still signs in and changes its other fields.
    /// </summary>
    [Fact]
    public async Task A_new_email_must_be_ASCII_and_an_existing_non_ASCII_one_still_signs_in()
    {
        var tag = Guid.NewGuid().ToString("N")[..12];
        await (await shop.Client().PostJsonAsync("/users/register", new { name = "Kim", email = $"kim-{tag}@shop.test", password = "s3cret-pass" })).ExpectAsync(201);
        foreach (var lookAlike in new[] { $"k\u0131m-{tag}@shop.test", $"\u212aim-{tag}@shop.test", $"\uff4bim-{tag}@shop.test", $"kim-{tag}@sh\u00f6p.test" })
        {
            var refused = await (await shop.Client().PostJsonAsync("/users/register", new { name = "Kim", email = lookAlike, password = "s3cret-pass" })).ExpectValidationAsync("email");
            var message = refused.GetProperty("errors").GetProperty("email")[0].GetString();
            Assert.Contains("ASCII", message);
            Assert.Contains("xn--", message);
        }
        var (client, user) = await shop.NewUserAsync();
        await (await client.PatchJsonAsync($"/users/{user.Id}", new { email = $"k\u0131m-{tag}@shop.test", current_password = user.Password })).ExpectValidationAsync("email");
        // An internationalised domain in its ASCII form is an ordinary address.
        await (await shop.Client().PostJsonAsync("/users/register", new { name = "Kim", email = $"kim-{tag}@xn--shp-sna.test", password = "s3cret-pass" })).ExpectAsync(201);

        // An account from before the rule, with a non-ASCII address.
        var before = $"j\u00f6rg-{tag}@example.com";
        await using (var db = await shop.OpenDatabaseAsync("usersdb"))
        {
            await Sql.ExecuteAsync(db, "UPDATE users SET email = @email, normalized_email = @email WHERE id = @id", ("email", before), ("id", user.Id));
        }
        var token = await shop.Client().LoginAsync(before.ToUpperInvariant(), user.Password);
        await (await shop.Client(token).PatchJsonAsync($"/users/{user.Id}", new { name = "J\u00f6rg" })).ExpectAsync(200);
    }

    // Every field rule is in Shop.UnitTests (UserValidationTests); here: a rule and a binding failure reach the client as a 400 naming the field.
    [Theory]
    [InlineData("""{"name":"A","email":"not-an-email","password":"longenough"}""", "email")]
    [InlineData("""{"name":"A","email":"a@b.co","password":12345678}""", "password")]
    public async Task Register_validates_input(string body, string field)
    {
        var response = await shop.Client().PostRawAsync("/users/register", body);
        await response.ExpectValidationAsync(field);
    }

    [Fact]
    public async Task Malformed_json_is_400_with_errors()
    {
        var response = await shop.Client().PostRawAsync("/users/register", "{\"name\": ");
        await response.ExpectValidationAsync();
        Assert.True((await response.JsonAsync()).TryGetProperty("errors", out _));
    }

    [Fact]
    public async Task Login_failures_look_identical_for_unknown_email_wrong_password_and_inactive_user()
    {
        var (_, active) = await shop.NewUserAsync();
        var (_, inactive) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        await (await admin.DeleteAsync($"/users/{inactive.Id}")).ExpectAsync(204);

        var unknown = await shop.Client().PostJsonAsync("/users/login", new { email = $"nobody-{Guid.NewGuid():N}@example.com", password = "whatever-123" });
        var wrong = await shop.Client().PostJsonAsync("/users/login", new { email = active.Email, password = "wrong-password" });
        var deactivated = await shop.Client().PostJsonAsync("/users/login", new { email = inactive.Email, password = inactive.Password });

        var bodies = new List<string>();
        foreach (var response in new[] { unknown, wrong, deactivated })
        {
            var problem = await response.ExpectProblemAsync(401);
            bodies.Add(problem.GetProperty("title").GetString() + "|" + problem.GetProperty("detail").GetString());
        }
        Assert.Single(bodies.Distinct());
    }

    [Fact]
    public async Task Login_is_case_insensitive_on_email()
    {
        var (_, user) = await shop.NewUserAsync();
        var token = await shop.Client().LoginAsync(user.Email.ToUpperInvariant(), user.Password);
        Assert.False(string.IsNullOrEmpty(token));
    }

    [Fact]
    public async Task After_five_failures_every_attempt_waits_even_with_the_right_password()
    {
        var (_, user) = await shop.NewUserAsync();
        for (var i = 0; i < 5; i++)
        {
            await (await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = "bad-guess-" + i })).ExpectAsync(401);
        }
        // The delay is one second: made ten minutes, so that a slow round trip cannot let the next attempt in after it.
        await shop.ProlongSignInDelayAsync(user.Email, "127.0.0.1", failures: 5);
        var delayed = await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password });
        var problem = await delayed.ExpectProblemAsync(429);
        var retryAfter = int.Parse(delayed.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 15 * 60);
        Assert.Contains($"{retryAfter} second", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Me_returns_the_caller()
    {
        var (client, user) = await shop.NewUserAsync("Me Myself");
        var response = await client.GetAsync("/users/me");
        await response.ExpectAsync(200);
        var me = await response.JsonAsync();
        Assert.Equal(user.Id, me.GetProperty("id").GetInt32());
        Assert.Equal("Me Myself", me.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Only_admins_list_users_newest_first_and_paged()
    {
        var (client, older) = await shop.NewUserAsync();
        await (await client.GetAsync("/users/")).ExpectProblemAsync(403);

        // Enough users of its own for a full page of 5, whichever tests ran before this one.
        for (var i = 0; i < 4; i++)
        {
            await shop.NewUserAsync();
        }
        var (_, newer) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        var response = await admin.GetAsync("/users/?limit=5&offset=0");
        await response.ExpectAsync(200);
        var page = await response.JsonAsync();
        Assert.Equal(5, page.GetProperty("limit").GetInt32());
        Assert.Equal(0, page.GetProperty("offset").GetInt32());
        Assert.True(page.GetProperty("total").GetInt32() >= 6);
        Assert.Equal(5, page.GetProperty("items").GetArrayLength());

        // Other tests register users meanwhile: check the order, not who is first.
        var all = (await (await admin.GetAsync("/users/?limit=200")).JsonAsync()).GetProperty("items").EnumerateArray().ToList();
        var created = all.Select(u => u.GetProperty("created_at").GetDateTime()).ToList();
        Assert.Equal(created.OrderByDescending(c => c), created);
        var ids = all.Select(u => u.GetProperty("id").GetInt32()).ToList();
        Assert.True(ids.IndexOf(newer.Id) < ids.IndexOf(older.Id) || ids.IndexOf(older.Id) == -1);
        Assert.Contains(newer.Id, ids);

        await (await admin.GetAsync("/users/?limit=0")).ExpectValidationAsync("limit");
        await (await admin.GetAsync("/users/?limit=201")).ExpectValidationAsync("limit");
        await (await admin.GetAsync("/users/?offset=-1")).ExpectValidationAsync("offset");
    }

    [Fact]
    public async Task Users_see_themselves_but_another_user_is_404()
    {
        var (client, me) = await shop.NewUserAsync();
        var (_, other) = await shop.NewUserAsync();
        await (await client.GetAsync($"/users/{me.Id}")).ExpectAsync(200);
        await (await client.GetAsync($"/users/{other.Id}")).ExpectProblemAsync(404);
        await (await client.PatchJsonAsync($"/users/{other.Id}", new { name = "Hacked" })).ExpectProblemAsync(404);
        var admin = await shop.AdminAsync();
        await (await admin.GetAsync($"/users/{other.Id}")).ExpectAsync(200);
    }

    [Fact]
    public async Task Self_patch_changes_profile_and_password_with_current_password()
    {
        var (client, user) = await shop.NewUserAsync();
        var renamed = await client.PatchJsonAsync($"/users/{user.Id}", new { name = "Renamed" });
        await renamed.ExpectAsync(200);
        Assert.Equal("Renamed", (await renamed.JsonAsync()).GetProperty("name").GetString());

        await (await client.PatchJsonAsync($"/users/{user.Id}", new { password = "brand-new-pass" })).ExpectValidationAsync("current_password");
        await (await client.PatchJsonAsync($"/users/{user.Id}", new { password = "brand-new-pass", current_password = "wrong-one" })).ExpectValidationAsync("current_password");
        await (await client.PatchJsonAsync($"/users/{user.Id}", new { password = "brand-new-pass", current_password = user.Password })).ExpectAsync(200);
        Assert.False(string.IsNullOrEmpty(await shop.Client().LoginAsync(user.Email, "brand-new-pass")));
    }

    /// <summary>
    /// A password's length is counted in characters (Unicode code points, NIST SP 800-63B 5.1.1.2), not UTF-16 units:
    /// four emoji were 8 units and passed the 8-character minimum, and a 100-emoji passphrase was 200 units, refused as
    /// over 128 characters at registration, a password change and sign-in.
    /// </summary>
    [Fact]
    public async Task A_password_is_counted_in_characters_four_emoji_are_too_short_and_a_hundred_sign_in()
    {
        var email = $"emoji-{Guid.NewGuid():N}@example.com";
        var tooShort = await shop.Client().PostJsonAsync("/users/register", new { name = "Emoji", email, password = string.Concat(Enumerable.Repeat("🔑", 4)) });
        await tooShort.ExpectValidationAsync("password");

        var passphrase = string.Concat(Enumerable.Repeat("🔑", 100));
        var registered = await shop.Client().PostJsonAsync("/users/register", new { name = "Emoji", email, password = passphrase });
        await registered.ExpectAsync(201);
        var token = await shop.Client().LoginAsync(email, passphrase);
        var id = (await registered.JsonAsync()).GetProperty("user").GetProperty("id").GetInt32();

        var changed = string.Concat(Enumerable.Repeat("🗝", 128));
        await (await shop.Client(token).PatchJsonAsync($"/users/{id}", new { password = changed, current_password = passphrase })).ExpectAsync(200);
        Assert.False(string.IsNullOrEmpty(await shop.Client().LoginAsync(email, changed)));
    }

    /// <summary>
    /// A PATCH that names none of name, email, password, role and is_active (a misspelt field, which is ignored like any
    /// unknown one) changes nothing, so it is a 400 that says so, not a 200 that leaves the admin believing the account
    /// was deactivated.
    /// </summary>
    [Fact]
    public async Task A_patch_naming_no_field_it_can_change_is_400_and_changes_nothing()
    {
        var (client, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        var problem = await (await admin.PatchJsonAsync($"/users/{user.Id}", new { active = false })).ExpectValidationAsync("body");
        Assert.Contains("name, email, password, role or is_active", problem.GetProperty("detail").GetString());
        await (await client.PatchJsonAsync($"/users/{user.Id}", new { current_password = user.Password })).ExpectValidationAsync("body");
        Assert.True((await (await admin.GetAsync($"/users/{user.Id}")).JsonAsync()).GetProperty("is_active").GetBoolean());
    }

    [Fact]
    public async Task Non_admin_sending_role_or_is_active_is_403_and_nothing_changes()
    {
        var (client, user) = await shop.NewUserAsync();
        await (await client.PatchJsonAsync($"/users/{user.Id}", new { role = "admin" })).ExpectProblemAsync(403);
        var problem = await (await client.PatchJsonAsync($"/users/{user.Id}", new { is_active = false, name = "X" })).ExpectProblemAsync(403);
        // What to do instead, in the fields' own names: "may change role or activity" named neither field nor a way on.
        var detail = problem.GetProperty("detail").GetString();
        Assert.Contains("Only an admin can change role or is_active", detail);
        Assert.Contains("without role and is_active", detail);
        var me = await (await client.GetAsync("/users/me")).JsonAsync();
        Assert.Equal("user", me.GetProperty("role").GetString());
        Assert.NotEqual("X", me.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Admin_changes_role_and_deactivation_blocks_login_and_orders()
    {
        var (client, user) = await shop.NewUserAsync();
        var admin = await shop.AdminAsync();
        var promoted = await admin.PatchJsonAsync($"/users/{user.Id}", new { role = "admin" });
        await promoted.ExpectAsync(200);
        Assert.Equal("admin", (await promoted.JsonAsync()).GetProperty("role").GetString());
        await (await admin.PatchJsonAsync($"/users/{user.Id}", new { role = "superuser" })).ExpectValidationAsync("role");

        var sku = await shop.NewItemAsync();
        await (await admin.DeleteAsync($"/users/{user.Id}")).ExpectAsync(204);
        var login = await shop.Client().PostJsonAsync("/users/login", new { email = user.Email, password = user.Password });
        await login.ExpectProblemAsync(401);
        // The token has not expired, but the account changed: it is refused at the next request.
        var order = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } });
        await order.ExpectProblemAsync(401);
        Assert.Equal(1000, await admin.StockAsync(sku));
    }

    [Fact]
    public async Task An_account_that_ordered_and_is_then_deactivated_cannot_order_again_with_its_token()
    {
        // Orders reuses Users' "active" answer per account and security stamp (ActiveAccounts): the first
        // order leaves one behind, and the deactivation must still stop the next order at once.
        var (client, user) = await shop.NewUserAsync();
        var sku = await shop.NewItemAsync(qty: 10);
        await client.PlaceOrderAsync((sku, 1));
        var admin = await shop.AdminAsync();
        await (await admin.DeleteAsync($"/users/{user.Id}")).ExpectAsync(204);

        var again = await client.PostJsonAsync("/orders/", new { items = new[] { new { sku, qty = 1 } } });
        await again.ExpectProblemAsync(401);
        Assert.Equal(9, await admin.StockAsync(sku));
    }

    [Fact]
    public async Task Delete_is_admin_only_and_404_for_unknown()
    {
        var (client, user) = await shop.NewUserAsync();
        await (await client.DeleteAsync($"/users/{user.Id}")).ExpectProblemAsync(403);
        var admin = await shop.AdminAsync();
        await (await admin.DeleteAsync("/users/987654321")).ExpectProblemAsync(404);
    }

    [Fact]
    public async Task Admin_bootstrap_created_an_active_admin()
    {
        var admin = await shop.AdminAsync();
        var me = await (await admin.GetAsync("/users/me")).JsonAsync();
        Assert.Equal("admin", me.GetProperty("role").GetString());
        Assert.Equal(ShopApp.AdminEmail, me.GetProperty("email").GetString());
    }

    [Fact]
    public async Task Jwks_publishes_only_a_public_es256_key()
    {
        var response = await shop.Client().GetAsync("/users/.well-known/jwks.json");
        await response.ExpectAsync(200);
        var key = (await response.JsonAsync()).GetProperty("keys")[0];
        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.Equal("ES256", key.GetProperty("alg").GetString());
        Assert.False(key.TryGetProperty("d", out _), "private key material published");
    }

    /// <summary>
    /// The AppHost gives Users <c>Jwt__PreviousSigningKey</c> from <c>jwt-previous-signing-key</c>, empty unless a key is
    /// being rotated: an empty one is no key (Users starts, and publishes and signs with its own key only).
    /// </summary>
    [Fact]
    public async Task An_empty_previous_signing_key_is_no_key()
    {
        Assert.Equal("", shop.ParameterValue("jwt-previous-signing-key"));

        var response = await shop.Client().GetAsync("/users/.well-known/jwks.json");
        await response.ExpectAsync(200);
        Assert.Equal(1, (await response.JsonAsync()).GetProperty("keys").GetArrayLength());
    }

    [Fact]
    public async Task Missing_token_is_401_with_bearer_challenge()
    {
        var response = await shop.Client().GetAsync("/users/me");
        await response.ExpectProblemAsync(401);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    /// <summary>An account from a release with a lower work factor still signs in, and its hash is stored again at today's.</summary>
    [Fact]
    public async Task A_password_hashed_at_an_older_work_factor_signs_in_and_is_stored_again_at_todays()
    {
        var (_, user) = await shop.NewUserAsync();
        await using var db = await shop.OpenDatabaseAsync("usersdb");
        await Sql.ExecuteAsync(db, "UPDATE users SET password_hash = @hash WHERE id = @id",
            ("hash", IdentityV3Hash(user.Password, iterations: 100_000)), ("id", user.Id));

        await shop.Client().LoginAsync(user.Email, user.Password);

        await using var read = new Npgsql.NpgsqlCommand("SELECT password_hash FROM users WHERE id = @id", db);
        read.Parameters.AddWithValue("id", user.Id);
        var stored = Convert.FromBase64String((string)(await read.ExecuteScalarAsync())!);
        Assert.Equal(220_000, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(stored.AsSpan(5, 4)));
        await shop.Client().LoginAsync(user.Email, user.Password);
    }

    /// <summary>ASP.NET Core Identity's V3 format: marker, PRF (HMAC-SHA512), iterations, salt length, salt, PBKDF2 subkey.</summary>
    private static string IdentityV3Hash(string password, int iterations)
    {
        var salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(16);
        var subkey = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, System.Security.Cryptography.HashAlgorithmName.SHA512, 32);
        var hash = new byte[13 + salt.Length + subkey.Length];
        hash[0] = 0x01;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(hash.AsSpan(1), 2);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(hash.AsSpan(5), iterations);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(hash.AsSpan(9), salt.Length);
        salt.CopyTo(hash, 13);
        subkey.CopyTo(hash, 13 + salt.Length);
        return Convert.ToBase64String(hash);
    }
}
