using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// The Aspire dashboard that runs with the shared app, as it does under <c>./shop run</c>, in real
/// Chromium: its Resources page lists every resource of the Shop running and healthy. The screenshot
/// (artifacts/screenshots/dashboard.png) is the README's.
/// </summary>
public sealed class DashboardTests(ShopApp shop)
{
    [Fact]
    public async Task The_resources_page_lists_every_resource_running_and_healthy()
    {
        // The app's own browser token, used once to sign this browser in; the dashboard then drops it from the address.
        var signIn = await shop.App.GetDashboardUrlAsync();
        await using var chromium = await Chromium.LaunchAsync();
        var page = await chromium.NewPageAsync(new Uri(signIn.GetLeftPart(UriPartial.Authority)), 1440, 800);
        await page.GotoAsync(signIn.ToString());
        await page.GetByRole(AriaRole.Heading, new() { Name = "Resources" }).WaitForAsync();
        Assert.Equal("/", new Uri(page.Url).PathAndQuery);
        try
        {
            await ExpectEveryResourceRunningAsync(page);
        }
        catch (PlaywrightException)
        {
            // The dashboard is a Blazor Server app, and an exception in its circuit ends the circuit: the page stays
            // as it was, under Blazor's "An unhandled error has occurred. Reload" bar. Two CI-like runs (2026-12-05)
            // hit a race inside Blazor's Virtualize there (ObjectDisposedException from VirtualizeJsInterop in
            // OnAfterRenderAsync, in the dashboard's log) and the grid stayed at "No resources found". A person
            // reloads the page; so does this test, once, and only when that bar is up. (Not the browser console:
            // the dashboard runs with DetailedErrors in Development, so it logs the exception, not a fixed phrase.)
            if (!await page.Locator("#blazor-error-ui").IsVisibleAsync())
            {
                throw;
            }
            await page.ReloadAsync();
            await page.GetByRole(AriaRole.Heading, new() { Name = "Resources" }).WaitForAsync();
            await ExpectEveryResourceRunningAsync(page);
        }

        Directory.CreateDirectory(Chromium.ScreenshotDirectory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Chromium.ScreenshotDirectory, "dashboard.png") });
    }

    private static async Task ExpectEveryResourceRunningAsync(IPage page)
    {
        var grid = page.GetByRole(AriaRole.Region, new() { Name = "Resources" });
        foreach (var name in ShopAppHost.ResourceNames)
        {
            // The name cell is "<type>: <name>". The state cell is named "Running" only when the resource runs
            // and is healthy: while a health check fails it says so ("Running (Unhealthy)" and a tooltip).
            var row = grid.GetByRole(AriaRole.Row).Filter(new()
            {
                Has = page.GetByRole(AriaRole.Gridcell, new() { NameRegex = new Regex($"^[A-Za-z]+: {Regex.Escape(name)}$") }),
            });
            await Assertions.Expect(row.GetByRole(AriaRole.Gridcell).Nth(1)).ToHaveAccessibleNameAsync("Running", new() { Timeout = 30_000 });
        }
    }
}
