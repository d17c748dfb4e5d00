using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

[assembly: AssemblyFixture(typeof(Shop.Tests.Infrastructure.ShopApp))]

namespace Shop.Tests.Infrastructure;

/// <summary>
/// The whole Shop, booted once per test run by the real AppHost (Aspire.Hosting.Testing): local
/// PostgreSQL and Redis processes with throw-away data, the three services, the SPA and the gateway
/// on a free port. Tests talk to it through the gateway like any client.
/// </summary>
public sealed class ShopApp : ShopAppHost
{
    // As under ./shop run (DashboardTests). It starts alongside the resources and costs no measurable boot
    // time; the dashboard process took about 3 s of CPU per test class on this app's telemetry.
    protected override bool Dashboard => true;

    /// <summary>
    /// Set to <c>off</c> by <c>./shop test --deploy</c> for its deployment tier, which runs DeploymentTests alone:
    /// the shared app is an assembly fixture, booted for any selection, and would take the cores for nothing.
    /// </summary>
    public const string SharedAppVariable = "SHOP_TESTS_SHARED_APP";

    protected override bool Boots => Environment.GetEnvironmentVariable(SharedAppVariable) != "off";

    protected override void Configure(IDistributedApplicationTestingBuilder builder) =>
        // Every test client signs in from 127.0.0.1; in production that would be thousands of clients,
        // so the per-address spraying limit is lifted here (the scaled app keeps the default and tests it).
        builder.CreateResourceBuilder<ProjectResource>("users").WithEnvironment("LoginThrottle__PerAddress__FreeAttempts", "100000");
}

/// <summary>
/// The same app with two replicas of each service (the scale-out tests), and access tokens that live
/// 45 s (with 2 s of clock skew), so a test can outlast one while the other scale-out tests, which
/// register users and then use their tokens, keep a margin on a loaded machine.
/// </summary>
public sealed class ScaledShopApp : ShopAppHost
{
    protected override string[] ExtraArguments => ["Shop:Replicas=2"];

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        builder.CreateResourceBuilder<ProjectResource>("users").WithEnvironment("Jwt__Lifetime", "00:00:45");
        // API documentation off, as in Production (ApiDocsTests); the shared app serves it (Development).
        foreach (var resource in new[] { "users", "orders", "inventory", "gateway" })
        {
            builder.CreateResourceBuilder<ProjectResource>(resource).WithEnvironment("Shop__ApiDocs", "false");
        }
        foreach (var service in new[] { "users", "orders", "inventory" })
        {
            builder.CreateResourceBuilder<ProjectResource>(service).WithEnvironment("Jwt__ClockSkew", "00:00:02");
        }
        // Background work starts when the database announces it, on every replica, not at the next poll
        // (ScaleOutTests): with fallback polls this long, only the wake-up can act within the tests' patience.
        builder.CreateResourceBuilder<ProjectResource>("orders")
            .WithEnvironment("Webhooks__PollInterval", SlowFallbackPoll)
            .WithEnvironment("Orders__StockReleasePollInterval", SlowFallbackPoll);
    }

    public const string SlowFallbackPoll = "00:10:00";
}

public abstract class ShopAppHost : IAsyncLifetime
{
    protected virtual string[] ExtraArguments => [];

    /// <summary>Whether the Aspire dashboard runs with this app, as under <c>./shop run</c> (DashboardTests).</summary>
    protected virtual bool Dashboard => false;

    /// <summary>Whether the app starts at all (<see cref="ShopApp.SharedAppVariable"/>).</summary>
    protected virtual bool Boots => true;

    /// <summary>Test-only settings of this app's resources.</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }

    public const int PendingOrdersCap = 250;
    public const int UnitsPerOrderCap = 1000;

    public const string AdminEmail = "admin@shop.local";
    public const string AdminPassword = "Admin123!";

    /// <summary>The app's resources, each waited for until healthy before any test runs.</summary>
    public static readonly string[] ResourceNames = ["users-db", "orders-db", "inventory-db", "redis", "users", "inventory", "orders", "web", "gateway"];

    public DistributedApplication App { get; private set; } = null!;
    public Uri GatewayAddress { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        if (!Boots)
        {
            return;
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>(new DistributedApplicationTestingBuilderOptions { EnableDashboard = Dashboard },
        [
            "Shop:GatewayPort=0",
            "Shop:EphemeralData=true",
            $"SHOP_ADMIN_EMAIL={AdminEmail}",
            $"SHOP_ADMIN_PASSWORD={AdminPassword}",
            .. ExtraArguments,
        ], cts.Token);
        // The AppHost's own logs (health probes failing while resources start) are noise in test output.
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None).AddFilter("Aspire.Hosting", LogLevel.Error).AddFilter("Shop.AppHost.Resources", LogLevel.Critical).AddFilter("System.Net.Http", LogLevel.Warning).AddFilter("Polly", LogLevel.Error));

        // Test-only knobs: a short webhook schedule, loopback receivers allowed but private networks refused
        // (the production SSRF policy with the test's own 127.0.0.1 receiver let through).
        builder.CreateResourceBuilder<ProjectResource>("orders")
            .WithEnvironment("Webhooks__RetrySchedule__0", "00:00:01")
            .WithEnvironment("Webhooks__RetrySchedule__1", "00:00:01")
            .WithEnvironment("Webhooks__RetrySchedule__2", "00:00:02")
            .WithEnvironment("Webhooks__RetrySchedule__3", "00:00:02")
            .WithEnvironment("Webhooks__RetrySchedule__4", "00:00:03")
            .WithEnvironment("Webhooks__PollInterval", "00:00:00.200")
            // Room for the tests that hold a delivery open while they act (up to 7.5 s; 5 s, the default, left a loaded
            // machine little). ClaimLease (60 s) must stay above it × ceil(BatchSize 100 / 16 at once) = 56 s.
            .WithEnvironment("Webhooks__AttemptTimeout", "00:00:08")
            .WithEnvironment("Webhooks__BlockPrivateNetworks", "true")
            .WithEnvironment("Webhooks__AllowLoopback", "true")
            // The production target rules (https, ports 80/443) on; loopback receivers are exempt from them.
            .WithEnvironment("Webhooks__RequireHttps", "true")
            .WithEnvironment("Webhooks__AllowedPorts__0", "80")
            .WithEnvironment("Webhooks__AllowedPorts__1", "443")
            // Caps above what the load and fault tests place per shopper (up to ~225 pending, 1000 units
            // in one line), so they keep their meaning; OrderAbuseTests prove the caps at these values.
            .WithEnvironment("Orders__MaxPendingOrdersPerUser", PendingOrdersCap.ToString())
            .WithEnvironment("Orders__MaxUnitsPerOrder", UnitsPerOrderCap.ToString())
            // Sweeps every second. Expiry itself stays at its 30-minute default, so no other test's pending
            // order expires; a test expires one order by moving that order's expires_at.
            .WithEnvironment("Orders__ExpirySweepInterval", "00:00:01")
            .WithEnvironment("Orders__Retention__SweepInterval", "00:00:01")
            // Each request refused during an outage, counted and not logged in production, as a Debug line: the
            // outage tests read where each placement's log ends (CircuitBreakerTests, FaultTests).
            .WithEnvironment("Logging__LogLevel__Shop.ServiceDefaults.OutageLog", "Debug");

        // Every HTTP test client is 127.0.0.1: one client to the gateway, making hundreds of requests at once,
        // which no production limit should allow. It is exempt, while the limits stay the production
        // defaults for every other address (GatewayLimitsTests connects from 127.0.0.2 and up). Chromium
        // reaches "localhost" over ::1, so the browser tests run under the production limits, as a shopper would.
        builder.CreateResourceBuilder<ProjectResource>("gateway").WithEnvironment("RateLimiting__ExemptNetworks__0", "127.0.0.1/32");

        // Routing's Debug lines name each request's path: the log markers of LinesKeptAsync.
        foreach (var process in ServiceNames)
        {
            builder.CreateResourceBuilder<ProjectResource>(process).WithEnvironment($"Logging__LogLevel__{LogMarkerCategory}", "Debug");
        }

        Configure(builder);
        App = await builder.BuildAsync(cts.Token);
        StartedAt = DateTimeOffset.UtcNow;
        try
        {
            await App.StartAsync(cts.Token);
            foreach (var resource in ResourceNames)
            {
                await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, cts.Token);
            }
            HealthyAt = DateTimeOffset.UtcNow;
        }
        finally
        {
            KeepResourceLogs(); // also when the start failed: the logs say why
        }
        GatewayAddress = App.GetEndpoint("gateway", "http");
        RedisClientsAtStart = await RedisClientNamesAsync();
    }

    /// <summary>When the app was started and when every resource was healthy: the start-up window in its logs.</summary>
    public DateTimeOffset StartedAt { get; private set; }
    public DateTimeOffset HealthyAt { get; private set; }

    /// <summary>Where <see cref="KeepResourceLogs"/> writes a resource's console output.</summary>
    public string ResourceLogPath(string resource) =>
        Path.Combine(RepositoryRoot, "artifacts", "test-results", "resource-logs", GetType().Name, resource + ".log");

    /// <summary>Redis' client names (service/pid) the moment the app was healthy, before any test's request.</summary>
    public IReadOnlyList<string> RedisClientsAtStart { get; private set; } = [];

    /// <summary>An open connection to one of the app's databases (usersdb, ordersdb, inventorydb).</summary>
    /// <remarks>
    /// A new connection each time, never a pooled one: a fault test that restarts a database leaves the pool's
    /// idle connections dead, and the next test to take one failed with 57P01 "terminating connection due to
    /// administrator command".
    /// </remarks>
    public async Task<Npgsql.NpgsqlConnection> OpenDatabaseAsync(string database)
    {
        var settings = new Npgsql.NpgsqlConnectionStringBuilder(await App.GetConnectionStringAsync(database)
            ?? throw new InvalidOperationException($"no connection string for {database}")) { Pooling = false };
        var connection = new Npgsql.NpgsqlConnection(settings.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>
    /// The environment of a running resource's process, as the AppHost handed it over (read from
    /// /proc, so it is what the process really got, not what the app model says it should get).
    /// </summary>
    public Task<Dictionary<string, string>> ProcessEnvironmentAsync(string resource)
    {
        var environ = File.ReadAllText($"/proc/{ProcessId(resource)}/environ");
        return Task.FromResult(environ.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(v => v.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0])
            .ToDictionary(g => g.Key, g => g.Last()[1]));
    }

    /// <summary>The command line and working directory a running resource's process was started with (from /proc).</summary>
    public (string FileName, string[] Arguments, string WorkingDirectory) ProcessCommand(string resource)
    {
        var pid = ProcessId(resource);
        var command = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        return (command[0], command[1..], new DirectoryInfo($"/proc/{pid}/cwd").ResolveLinkTarget(returnFinalTarget: true)!.FullName);
    }

    /// <summary>
    /// Sends SIGTERM to a running resource's process, as a container runtime, Kubernetes or systemd stops a service
    /// (Aspire's stop command is the orchestrator's own way); returns the process id for <see cref="WaitUntilExitedAsync"/>.
    /// </summary>
    public async Task<int> TerminateAsync(string resource)
    {
        var pid = ProcessId(resource);
        (await ChildProcess.RunAsync("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])).AssertSucceeded();
        return pid;
    }

    /// <summary>Until the signalled process has exited and Aspire shows its resource stopped (a start command may then follow), 60 s at most.</summary>
    public async Task WaitUntilExitedAsync(string resource, int pid)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await App.ResourceNotifications.WaitForResourceAsync(resource, KnownResourceStates.TerminalStates, timeout.Token);
        var gone = await Eventually.HoldsAsync(() => !Directory.Exists($"/proc/{pid}"), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        Assert.True(gone, $"{resource} (process {pid}) had not exited 60 s after it was signalled");
    }

    private int ProcessId(string resource) =>
        App.ResourceNotifications.TryGetCurrentState(resource, out var state)
            && state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid
            ? Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"{resource} has no running process");

    /// <summary>Clears sign-in throttling state: every test client shares one address, 127.0.0.1.</summary>
    public async Task ForgetSignInAttemptsAsync()
    {
        await using var redis = await ConnectRedisAsync(",allowAdmin=true");
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var db = redis.GetDatabase(0);
        await foreach (var key in server.KeysAsync(0, "login:*"))
        {
            await db.KeyDeleteAsync(key);
        }
    }

    /// <summary>The sign-in throttle's scope of one account from one client (<c>203.0.113.7</c>, or an IPv6 <c>…/64</c>), as Users keys it in Redis.</summary>
    public static string SignInScope(string email, string client) => $"login:account-address:{email.Trim().ToLowerInvariant()}|{client}";

    /// <summary>
    /// Asserts that <paramref name="failures"/> wrong passwords are counted in <paramref name="email"/>'s scope from
    /// <paramref name="client"/> and have started a delay (the scope's <c>f</c> and <c>u</c>, the unix ms before which no
    /// attempt may start), then moves the delay's end ten minutes on. The delay after the fifth failure is one second, and
    /// on a loaded machine a test's next request can arrive after it and is rightly let through: a test that must meet
    /// the delay its failures started makes it one that no machine outruns.
    /// </summary>
    public async Task ProlongSignInDelayAsync(string email, string client, int failures)
    {
        await using var redis = await ConnectRedisAsync();
        var users = redis.GetDatabase(0);
        var scope = SignInScope(email, client);
        var fields = (await users.HashGetAllAsync(scope)).ToDictionary(e => e.Name.ToString(), e => (long)e.Value);
        Assert.True(fields.GetValueOrDefault("f") == failures && fields.GetValueOrDefault("u") > 0,
            $"{failures} failures did not start a delay in {scope}: {string.Join(", ", fields.Select(f => $"{f.Key}={f.Value}"))}");
        await users.HashSetAsync(scope, "u", fields["u"] + (long)TimeSpan.FromMinutes(10).TotalMilliseconds);
    }

    /// <summary>A connection of the test's own to the app's Redis, with extra client options (e.g. <c>,allowAdmin=true</c>).</summary>
    public async Task<StackExchange.Redis.ConnectionMultiplexer> ConnectRedisAsync(string options = "") =>
        await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(await RedisConnectionStringAsync() + ",connectTimeout=5000" + options);

    /// <summary>
    /// A fault proxy in front of the app's Redis, and the services' connection string (password and all) pointed
    /// at the proxy instead. The caller disposes the proxy.
    /// </summary>
    public async Task<(TcpFaultProxy Proxy, string ConnectionString)> RedisThroughProxyAsync()
    {
        var connectionString = await RedisConnectionStringAsync();
        var comma = connectionString.IndexOf(',');
        var proxy = TcpFaultProxy.Start(comma < 0 ? connectionString : connectionString[..comma]);
        return (proxy, proxy.Endpoint + (comma < 0 ? "" : connectionString[comma..]));
    }

    /// <summary>The app's Redis connection string as the services get it (<c>host:port,password=…</c>).</summary>
    public async Task<string> RedisConnectionStringAsync() =>
        await App.GetConnectionStringAsync("redis") ?? throw new InvalidOperationException("no redis connection string");

    /// <summary>
    /// Waits until every Redis client connected at start is connected again (a test that stalls Redis makes
    /// the services' clients drop and reopen their connections), so the next test meets the app as it was.
    /// </summary>
    public async Task WaitUntilRedisClientsAreBackAsync()
    {
        var missing = await Eventually.ReadUntilAsync(async () => RedisClientsAtStart.Except(await RedisClientNamesAsync()).ToList(),
            m => m.Count == 0, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        Assert.True(missing.Count == 0, $"not connected to Redis again after 30 s: {string.Join(", ", missing)}");
    }

    private async Task<IReadOnlyList<string>> RedisClientNamesAsync()
    {
        await using var redis = await ConnectRedisAsync(",allowAdmin=true");
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        return [.. (await server.ClientListAsync()).Select(c => c.Name).OfType<string>().Where(n => n.Length > 0).Distinct()];
    }

    /// <summary>
    /// Every resource's console output goes to artifacts/test-results/resource-logs/&lt;app&gt;/&lt;resource&gt;.log,
    /// so a failure in CI can be read after the fact without flooding the test output. Each instance (replica) of a
    /// resource is watched on its own, by the id its notifications carry, so <see cref="KeptResourceLog"/> can tell a
    /// restarted instance's replay from another replica's lines.
    /// </summary>
    private void KeepResourceLogs()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(ResourceLogPath("any"))!);
        var logs = App.Services.GetRequiredService<ResourceLoggerService>();
        var kept = new Dictionary<string, KeptResourceLog>();
        var watched = new HashSet<string>();
        _ = Task.Run(async () =>
        {
            try
            {
                // Every resource's current state first, then each change: a new instance is watched when it first appears.
                await foreach (var change in App.ResourceNotifications.WatchAsync(_stopping.Token))
                {
                    if (!watched.Add(change.ResourceId))
                    {
                        continue;
                    }
                    if (!kept.TryGetValue(change.Resource.Name, out var log))
                    {
                        kept[change.Resource.Name] = log = new KeptResourceLog(ResourceLogPath(change.Resource.Name));
                    }
                    _ = KeepAsync(log, change.ResourceId);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        async Task KeepAsync(KeptResourceLog log, string instance)
        {
            try
            {
                await foreach (var batch in logs.WatchAsync(instance).WithCancellation(_stopping.Token))
                {
                    await log.AppendAsync(instance, batch);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
            }
        }
    }

    /// <summary>
    /// A console line without its colour codes and other control characters: the logs are read by people
    /// and quoted in assertion messages, and XML (the TRX report) cannot hold an escape character.
    /// </summary>
    internal static string PlainText(string line) =>
        ControlCharacters.Replace(AnsiEscapes.Replace(line, ""), "");

    private static readonly System.Text.RegularExpressions.Regex AnsiEscapes = new(@"\x1B\[[0-9;?]*[ -/]*[@-~]", System.Text.RegularExpressions.RegexOptions.Compiled);
    private static readonly System.Text.RegularExpressions.Regex ControlCharacters = new(@"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]", System.Text.RegularExpressions.RegexOptions.Compiled);

    /// <summary>The app's own service processes, whose logs the tests read.</summary>
    public static readonly string[] ServiceNames = ["gateway", "users", "orders", "inventory"];

    /// <summary>
    /// Error and Critical entries (console format "fail:"/"crit:" and the <paramref name="linesPerEntry"/>
    /// lines from it) that <paramref name="services"/> logged from <paramref name="from"/> until this call (or
    /// <paramref name="until"/>), optionally only those whose first two lines contain <paramref name="containing"/>;
    /// each prefixed with its service. With <paramref name="warnings"/>, Warning entries ("warn:") too. Read once
    /// every line of the window is in the kept logs (<see cref="LinesKeptAsync"/>).
    /// </summary>
    public async Task<List<string>> ErrorEntriesAsync(IReadOnlyCollection<string> services, DateTimeOffset from, DateTimeOffset? until = null, string? containing = null, int linesPerEntry = 4, bool warnings = false)
    {
        var end = await LinesKeptAsync(services, until);
        var found = new List<string>();
        foreach (var service in services)
        {
            var lines = await ReadLogAsync(service);
            for (var i = 0; i < lines.Length; i++)
            {
                var line = PlainText(lines[i]);
                if (Timestamp(line) is not { } stamp || stamp < from || stamp > end)
                {
                    continue;
                }
                var text = line[(line.IndexOf(' ') + 1)..];
                if ((text.StartsWith("fail: ", StringComparison.Ordinal) || text.StartsWith("crit: ", StringComparison.Ordinal)
                        || (warnings && text.StartsWith("warn: ", StringComparison.Ordinal)))
                    && (containing is null || string.Join(" ", lines.Skip(i).Take(2)).Contains(containing, StringComparison.Ordinal)))
                {
                    var entry = lines.Skip(i).Take(linesPerEntry).Select(l => PlainText(l).TrimEnd());
                    found.Add($"[{service}] " + string.Join("\n    ", entry));
                }
            }
        }
        return found;
    }

    /// <summary>
    /// The lines of a resource's kept console log stamped from <paramref name="from"/> until this call (or
    /// <paramref name="until"/>), without colour codes; read once every line of the window is in the kept log
    /// (<see cref="LinesKeptAsync"/>).
    /// </summary>
    public async Task<List<string>> LogLinesAsync(string resource, DateTimeOffset from, DateTimeOffset? until = null)
    {
        var end = await LinesKeptAsync([resource], until);
        return InWindow(await ReadLogAsync(resource), from, end);
    }

    /// <summary>
    /// The lines of a resource's kept console log stamped since <paramref name="from"/> that have reached it so far, without
    /// waiting for more: for looking again and again while a window is open (also while the resource is stopped).
    /// </summary>
    public async Task<List<string>> LogLinesSoFarAsync(string resource, DateTimeOffset from) =>
        InWindow(await ReadLogAsync(resource), from, DateTimeOffset.MaxValue);

    private static List<string> InWindow(string[] lines, DateTimeOffset from, DateTimeOffset until) =>
        [.. lines.Select(PlainText).Where(l => Timestamp(l) is { } stamp && stamp >= from && stamp <= until)];

    /// <summary>
    /// Returns the window's end (<paramref name="until"/>, or now) once every line that <paramref name="processes"/> (of
    /// <see cref="ServiceNames"/>) logged before it is in their kept logs; a window that ends later is waited out first.
    /// Each process is sent a request for a path of its own, which routing logs (at Debug, <see cref="LogMarkerCategory"/>)
    /// when it handles it: the console logger writes a process's entries to its stdout in the order they were logged,
    /// from one queue, and that one stream reaches the file in order (DCP, then <see cref="KeepResourceLogs"/>), so the
    /// marker's line arrives after every line logged before the request was sent. (What a process writes to stderr is a
    /// stream of its own; the services' console logger writes nothing there.) Fails, naming the process and showing what
    /// was written, when a marker is not logged within LogTail's patience. One process per service: a service with
    /// replicas (<see cref="ScaledShopApp"/>) keeps one file of its replicas' streams interleaved, and a marker sent
    /// through its proxy reaches one replica, which says nothing of the others; no test reads such a log, so one is refused.
    /// </summary>
    private async Task<DateTimeOffset> LinesKeptAsync(IReadOnlyCollection<string> processes, DateTimeOffset? until)
    {
        var end = until ?? DateTimeOffset.UtcNow;
        if (end - DateTimeOffset.UtcNow is { Ticks: > 0 } left)
        {
            await Task.Delay(left);
        }
        await Task.WhenAll(processes.Select(async process =>
        {
            var replicas = Replicas[process];
            Assert.True(replicas == 1, $"{process} runs {replicas} replicas: its kept log interleaves them, and a log marker reaches only one");
            var marker = $"/log-marker-{Guid.NewGuid():N}";
            var tail = new LogTail(ResourceLogPath(process));
            using var http = App.CreateHttpClient(process, "http");
            http.Timeout = TimeSpan.FromSeconds(30);
            try
            {
                // Whatever it answers (a 404; the gateway passes it to the web app): only its routing's line counts.
                using var _ = await http.GetAsync(marker);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Assert.Fail($"{process} did not answer its log marker request {marker} ({e.Message}), so its lines until {end:O} cannot be known to be in its kept log");
            }
            await tail.WaitForAsync($"for the request path '{marker}'");
        }));
        return end;
    }

    /// <summary>Each resource's number of replicas, read once: the app model does not change once the app is built.</summary>
    private IReadOnlyDictionary<string, int> Replicas => _replicas ??= App.Services.GetRequiredService<DistributedApplicationModel>().Resources
        .ToDictionary(r => r.Name, r => r.TryGetLastAnnotation<ReplicaAnnotation>(out var annotation) ? annotation.Replicas : 1);

    private IReadOnlyDictionary<string, int>? _replicas;

    private const string LogMarkerCategory = "Microsoft.AspNetCore.Routing.Matching.DfaMatcher";

    /// <summary>A resource's kept console log, line by line (none before it wrote any).</summary>
    private async Task<string[]> ReadLogAsync(string resource)
    {
        var path = ResourceLogPath(resource);
        if (!File.Exists(path))
        {
            return [];
        }
        // The file is appended to while it is read; share it, and only whole lines are looked at.
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return (await new StreamReader(stream).ReadToEndAsync()).Split('\n');
    }

    internal static DateTimeOffset? Timestamp(string line)
    {
        var space = line.IndexOf(' ');
        return space > 0 && DateTimeOffset.TryParse(line.AsSpan(0, space), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var stamp) ? stamp : null;
    }

    private readonly CancellationTokenSource _stopping = new();

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Shop.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? AppContext.BaseDirectory;
    }

    public virtual async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> to the gateway as it is, bytes Kestrel refuses before any code of ours included
    /// (end it with <c>Connection: close</c>), and reads the answer to its end.
    /// </summary>
    public Task<string> ExchangeRawAsync(string request) => RawHttp.ExchangeAsync(GatewayAddress, request);

    /// <summary>A client of the gateway, as a browser or API client would use it.</summary>
    public ShopClient Client(string? token = null) => new(new HttpClient { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(60) }, token);

    /// <summary>
    /// A client of the gateway that connects from another loopback address (127.0.0.2, 127.0.0.3, …):
    /// to the gateway a different client, by the connection's own address — nothing it could claim in
    /// a header. Every other test client is 127.0.0.1.
    /// </summary>
    public ShopClient ClientFrom(System.Net.IPAddress address, string? token = null)
    {
        var port = GatewayAddress.Port;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new System.Net.IPEndPoint(address, 0));
                    await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), ct);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new(new HttpClient(handler) { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(60) }, token);
    }

    /// <summary>A client straight to one service, bypassing the gateway (internal routes), calling as Orders by default.</summary>
    public ShopClient ServiceClient(string resource, bool withServiceKey, string caller = "orders")
    {
        var http = App.CreateHttpClient(resource, "http");
        http.Timeout = TimeSpan.FromSeconds(60);
        var client = new ShopClient(http, null);
        if (withServiceKey)
        {
            http.DefaultRequestHeaders.Add("X-Service-Key", ParameterValue($"{caller}-service-key"));
        }
        return client;
    }

    public string ParameterValue(string name)
    {
        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        var parameter = model.Resources.OfType<ParameterResource>().Single(p => p.Name == name);
        return parameter.GetValueAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult()!;
    }

    public Task StopResourceAsync(string name) => ExecuteAsync(name, KnownResourceCommands.StopCommand);

    public Task StartResourceAsync(string name) => ExecuteAsync(name, KnownResourceCommands.StartCommand);

    /// <summary>
    /// Starts a stopped resource and waits until it is healthy. Right after the start command the
    /// resource's last state can still be the stop's "Exited", which the default wait behaviour takes
    /// for a failed start (and a second start command would restart the instance that was coming up),
    /// so the wait ignores unavailable states and is bounded by time instead.
    /// </summary>
    public async Task StartAndWaitHealthyAsync(string name)
    {
        await StartResourceAsync(name);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await App.ResourceNotifications.WaitForResourceHealthyAsync(name, WaitBehavior.WaitOnResourceUnavailable, timeout.Token);
    }

    private async Task ExecuteAsync(string resource, string command)
    {
        var commands = App.Services.GetRequiredService<ResourceCommandService>();
        var result = await commands.ExecuteCommandAsync(resource, command, CancellationToken.None);
        if (!result.Success)
        {
            throw new InvalidOperationException($"{command} on {resource} failed: {result.Message}");
        }
    }

    public async Task<ShopClient> AdminAsync() =>
        Client(await Client().LoginAsync(AdminEmail, AdminPassword, async () => $"Users' warnings:\n{await WarningsAsync("users")}"));

    /// <summary>The last warnings and errors in the kept logs of a service's instances, each with its next line (the message).</summary>
    private async Task<string> WarningsAsync(string service)
    {
        var found = new List<string>();
        foreach (var path in Directory.EnumerateFiles(Path.GetDirectoryName(ResourceLogPath(service))!, service + "*.log"))
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var lines = (await new StreamReader(file).ReadToEndAsync()).Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Contains(" warn: ", StringComparison.Ordinal) || lines[i].Contains(" fail: ", StringComparison.Ordinal))
                {
                    found.Add($"{Path.GetFileName(path)}: {lines[i].Trim()} {(i + 1 < lines.Length ? lines[i + 1].Trim() : "")}");
                }
            }
        }
        return found.Count == 0 ? "(none)" : string.Join("\n", found.TakeLast(20));
    }

    /// <summary>A new, active shopper with a unique email.</summary>
    public async Task<(ShopClient Client, TestUser User)> NewUserAsync(string? name = null)
    {
        var email = $"user-{Guid.NewGuid():N}@example.com";
        var password = "correct-horse-" + Guid.NewGuid().ToString("N")[..8];
        var response = await Client().PostJsonAsync("/users/register", new { name = name ?? "Test Shopper", email, password });
        await response.ExpectAsync(201);
        var body = await response.JsonAsync();
        var token = body.GetProperty("access_token").GetString()!;
        var id = body.GetProperty("user").GetProperty("id").GetInt32();
        return (Client(token), new TestUser(id, email, password, token));
    }

    /// <summary>A fresh item with a unique sku (and big stock unless told otherwise), created by the admin.</summary>
    public async Task<string> NewItemAsync(int qty = 1000, decimal price = 10.00m, string? sku = null)
    {
        sku ??= "T-" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant();
        var admin = await AdminAsync();
        var response = await admin.PostJsonAsync("/inventory/", new { sku, name = $"Test item {sku}", price, qty });
        await response.ExpectAsync(201);
        return sku;
    }
}

public sealed record TestUser(int Id, string Email, string Password, string Token);
