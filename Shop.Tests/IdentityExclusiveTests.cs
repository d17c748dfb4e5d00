using System.Net;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// Identity guarantees that need the app to themselves: the admin bootstrap across a restart of Users,
/// and a password spray from one address (which slows every sign-in from that address for a while).
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed class IdentityExclusiveTests(ShopApp shop, ScaledShopApp scaled)
{
    [Fact]
    public async Task The_bootstrap_never_promotes_an_account_that_took_the_admin_email_nor_reactivates_the_admin()
    {
        var bootstrapAdmin = await shop.AdminAsync();
        var bootstrapId = (await (await bootstrapAdmin.GetAsync("/users/me")).JsonAsync()).GetProperty("id").GetInt32();
        var (_, secondAdmin) = await shop.NewUserAsync();
        await (await bootstrapAdmin.PatchJsonAsync($"/users/{secondAdmin.Id}", new { role = "admin" })).ExpectAsync(200);
        var keeper = shop.Client(await shop.Client().LoginAsync(secondAdmin.Email, secondAdmin.Password));

        // The admin moves to another address and is then deactivated (say its password leaked);
        // a stranger registers the freed bootstrap address.
        var movedEmail = $"former-admin-{Guid.NewGuid():N}@example.com";
        await (await bootstrapAdmin.PatchJsonAsync($"/users/{bootstrapId}", new { email = movedEmail, current_password = ShopApp.AdminPassword })).ExpectAsync(200);
        await (await keeper.DeleteAsync($"/users/{bootstrapId}")).ExpectAsync(204);
        var squatter = await shop.Client().PostJsonAsync("/users/register", new { name = "Squatter", email = ShopApp.AdminEmail, password = "squatters-password" });
        await squatter.ExpectAsync(201);
        var squatterId = (await squatter.JsonAsync()).GetProperty("user").GetProperty("id").GetInt32();
        try
        {
            await shop.StopResourceAsync("users");
            await shop.StartAndWaitHealthyAsync("users");

            var afterRestart = await shop.Client().PostJsonAsync("/users/login", new { email = ShopApp.AdminEmail, password = "squatters-password" });
            await afterRestart.ExpectAsync(200);
            Assert.Equal("user", (await afterRestart.JsonAsync()).GetProperty("user").GetProperty("role").GetString());
            var former = await (await keeper.GetAsync($"/users/{bootstrapId}")).JsonAsync();
            Assert.False(former.GetProperty("is_active").GetBoolean(), "the bootstrap reactivated a deactivated admin");
        }
        finally
        {
            // Put the shared app back as the other tests expect it: the bootstrap admin at its address.
            await (await keeper.PatchJsonAsync($"/users/{squatterId}", new { email = $"squatter-{Guid.NewGuid():N}@example.com", is_active = false })).ExpectAsync(200);
            await (await keeper.PatchJsonAsync($"/users/{bootstrapId}", new { email = ShopApp.AdminEmail, is_active = true })).ExpectAsync(200);
        }
        await shop.AdminAsync();
    }

    [Fact]
    public async Task Spraying_one_password_over_many_accounts_from_one_address_is_slowed_down()
    {
        var client = scaled.Client();
        var throttled = 0;
        for (var i = 0; i < 80 && throttled == 0; i++)
        {
            var response = await client.PostJsonAsync("/users/login", new { email = $"spray-{i}-{Guid.NewGuid():N}@example.com", password = "Summer2026!" });
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throttled++;
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            }
            else
            {
                await response.ExpectAsync(401);
            }
        }
        try
        {
            Assert.True(throttled > 0, "80 sign-in attempts on 80 accounts from one address were never slowed down");
        }
        finally
        {
            await scaled.ForgetSignInAttemptsAsync();
        }
    }
}
