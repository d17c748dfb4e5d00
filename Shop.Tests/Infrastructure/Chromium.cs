using Microsoft.Playwright;

namespace Shop.Tests.Infrastructure;

/// <summary>Debian's headless Chromium (never a downloaded browser) driven by Playwright.</summary>
public sealed class Chromium : IAsyncDisposable
{
    /// <summary>Where the browser tests keep their screenshots (the README shows some of them, copied to docs/screenshots).</summary>
    public static readonly string ScreenshotDirectory = Path.Combine(ShopAppHost.RepositoryRoot, "artifacts", "screenshots");

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private Chromium(IPlaywright playwright, IBrowser browser) => (_playwright, _browser) = (playwright, browser);

    public static async Task<Chromium> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("SHOP_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
            // This machine's network is closed: no background calls home, no QUIC.
            Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return new Chromium(playwright, browser);
    }

    /// <summary>A page in a fresh context (its own cookies and storage) on the app's gateway.</summary>
    public async Task<IPage> NewPageAsync(Uri gateway, int width = 1280, int height = 860)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = gateway.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    public static async Task SignInAsync(IPage page, string email, string password)
    {
        await page.GotoAsync("/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/catalog");
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
