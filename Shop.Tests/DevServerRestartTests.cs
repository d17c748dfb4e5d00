using Microsoft.Playwright;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The dev loop of <c>./shop run</c>: when Vite's dev server restarts (restarted from the dashboard, or after a
/// crash), an open page notices, waits for it, and reloads itself, as it does without the gateway in between.
/// Stops a resource of the shared app, so it runs alone.
/// </summary>
[Collection(ExclusiveCollection.Name)]
public sealed class DevServerRestartTests(ShopApp shop) : IAsyncLifetime
{
    private Chromium _chromium = null!;

    public async ValueTask InitializeAsync() => _chromium = await Chromium.LaunchAsync();

    public ValueTask DisposeAsync() => _chromium.DisposeAsync();

    [Fact]
    public async Task An_open_page_reloads_itself_once_the_dev_server_is_back()
    {
        var page = await _chromium.NewPageAsync(shop.GatewayAddress);
        var connected = new TaskCompletionSource();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("[vite] connected"))
            {
                connected.TrySetResult();
            }
        };
        await page.GotoAsync("/signin");
        await connected.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var reloaded = new TaskCompletionSource();
        page.Load += (_, _) => reloaded.TrySetResult();
        await shop.StopResourceAsync("web");
        await shop.StartAndWaitHealthyAsync("web");

        // Vite's client polls the restarted server from a worker, then reloads the page.
        var reload = await Record.ExceptionAsync(() => reloaded.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(reload is null, "the page did not reload itself within 30 s of the dev server being back (see the page's console errors below)");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).WaitForAsync();
    }
}
