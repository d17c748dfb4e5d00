using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit;

namespace Shop.Tests.Infrastructure;

/// <summary>
/// Debian's headless Chromium (never a downloaded browser) driven by Playwright. Every page keeps a short
/// journal (navigations, HTTP errors, failed requests, console errors); when the test fails, each page's
/// journal, visible alerts and a screenshot are added to the test's output, so a failure seen once in CI
/// says what the browser saw.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    /// <summary>Where the browser tests keep their screenshots (the README shows some of them, copied to docs/screenshots).</summary>
    public static readonly string ScreenshotDirectory = Path.Combine(ShopAppHost.RepositoryRoot, "artifacts", "screenshots");

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly List<(IPage Page, PageJournal Journal)> _pages = [];

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
        return await NewTabAsync(context);
    }

    /// <summary>Another page in <paramref name="context"/>: a new tab of the same browser, sharing its cookies.</summary>
    public async Task<IPage> NewTabAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        lock (_pages)
        {
            _pages.Add((page, new PageJournal(page)));
        }
        return page;
    }

    /// <summary>
    /// Waits until the page's address is <paramref name="path"/>. The SPA changes routes in the page, and
    /// <c>WaitForURLAsync</c> compares the address once, then listens for the next navigation event: an event that
    /// reaches the client between the two can be missed, and the wait then times out although the page is there
    /// (the likely cause of a CI run's timeout on <c>/admin/inventory</c>, whose page journal showed that navigation).
    /// Polling the address has no such gap.
    /// </summary>
    public static Task WaitForRouteAsync(IPage page, string path) =>
        WaitForRouteAsync(page, new Regex("^[^?#]*" + Regex.Escape(path) + "([?#].*)?$"));

    /// <inheritdoc cref="WaitForRouteAsync(IPage, string)"/>
    public static Task WaitForRouteAsync(IPage page, Regex address) =>
        Assertions.Expect(page).ToHaveURLAsync(address, new() { Timeout = 20_000 });

    public static async Task SignInAsync(IPage page, string email, string password)
    {
        await page.GotoAsync("/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await WaitForRouteAsync(page, "/catalog");
    }

    /// <summary>
    /// Presses Place order once checkout lets the order go. The button is held with aria-disabled, never natively
    /// disabled (it keeps a keyboard user's focus), so the wait names the attribute rather than trusting a click's
    /// own wait for an enabled element.
    /// </summary>
    public static async Task PlaceOrderAsync(IPage page)
    {
        var placeOrder = page.GetByRole(AriaRole.Button, new() { Name = "Place order" });
        await Assertions.Expect(placeOrder).Not.ToHaveAttributeAsync("aria-disabled", "true", new() { Timeout = 20_000 });
        await placeOrder.ClickAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (TestContext.Current.TestState?.Result == TestResult.Failed)
        {
            await DescribePagesAsync(TestContext.Current.TestOutputHelper);
        }
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    private async Task DescribePagesAsync(ITestOutputHelper? output)
    {
        var test = string.Concat((TestContext.Current.Test?.TestDisplayName ?? "test").Split('.').Last().Take(80));
        (IPage Page, PageJournal Journal)[] pages;
        lock (_pages)
        {
            pages = [.. _pages];
        }
        for (var i = 0; i < pages.Length; i++)
        {
            var (page, journal) = pages[i];
            var text = new StringBuilder($"Browser page {i + 1} of {pages.Length}");
            if (page.IsClosed)
            {
                text.Append(" (closed)");
            }
            else
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    var screenshot = Path.Combine(ScreenshotDirectory, $"failed-{test}-{i + 1}.png");
                    await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true, Timeout = 5_000 });
                    var alerts = await page.GetByRole(AriaRole.Alert).AllInnerTextsAsync().WaitAsync(timeout.Token);
                    text.Append($" at {page.Url}, screenshot {Path.GetRelativePath(ShopAppHost.RepositoryRoot, screenshot)}");
                    text.Append(alerts.Count == 0 ? "; no alert shown" : "; alerts shown: " + string.Join(" | ", alerts.Select(a => a.ReplaceLineEndings(" "))));
                }
                catch (Exception e) when (e is PlaywrightException or TimeoutException or OperationCanceledException)
                {
                    text.Append($" at {page.Url} (could not capture it: {e.Message.Split('\n')[0]})");
                }
            }
            text.AppendLine().Append(journal);
            output?.WriteLine(text.ToString());
        }
    }

    /// <summary>What one page did, in order, with the time since it opened.</summary>
    private sealed class PageJournal
    {
        private const int MaxEntries = 200;
        private readonly ConcurrentQueue<string> _entries = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public PageJournal(IPage page)
        {
            page.FrameNavigated += (_, frame) =>
            {
                if (frame.ParentFrame is null)
                {
                    Add($"navigated to {frame.Url}");
                }
            };
            page.Response += (_, response) =>
            {
                if (response.Status >= 400)
                {
                    Add($"{response.Request.Method} {response.Url} answered {response.Status}");
                }
            };
            page.RequestFailed += (_, request) => Add($"{request.Method} {request.Url} failed: {request.Failure}");
            page.Console += (_, message) =>
            {
                if (message.Type is "error" or "warning" || message.Text.StartsWith("[vite]", StringComparison.Ordinal))
                {
                    Add($"console {message.Type}: {message.Text}");
                }
            };
            page.PageError += (_, error) => Add($"uncaught error: {error.Split('\n')[0]}");
        }

        private void Add(string entry)
        {
            if (_entries.Count < MaxEntries)
            {
                _entries.Enqueue($"  {_clock.Elapsed.TotalSeconds,6:F1} s  {entry}");
            }
        }

        public override string ToString() => _entries.IsEmpty ? "  (nothing recorded)" : string.Join(Environment.NewLine, _entries);
    }
}
