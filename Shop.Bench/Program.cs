using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Shop.Bench;
using Spectre.Console;

if (args.Contains(TrivialServer.Argument))
{
    await TrivialServer.ServeAsync();
    return 0;
}
if (Array.IndexOf(args, BareYarpProxy.Argument) is var bare and >= 0 && bare + 1 < args.Length)
{
    await BareYarpProxy.ServeAsync(new Uri(args[bare + 1]));
    return 0;
}
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse([.. args.Where(a => !a.StartsWith("--baseline=", StringComparison.Ordinal))]);
}
catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException)
{
    AnsiConsole.MarkupLineInterpolated($"[red]{e.Message}[/]");
    Console.WriteLine(BenchOptions.Usage);
    return 2;
}
var baselinePath = args.FirstOrDefault(a => a.StartsWith("--baseline=", StringComparison.Ordinal))?["--baseline=".Length..];
var baseline = baselinePath is null ? null : BenchResults.Load(baselinePath);

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
var ct = cts.Token;
var clock = Stopwatch.StartNew();
var repoRoot = FindRepoRoot();
var machine = MachineInfo.Detect();
AnsiConsole.Write(new Rule("[bold]Shop benchmark[/]").LeftJustified());
AnsiConsole.MarkupLineInterpolated($"[grey]{machine}[/]");
AnsiConsole.MarkupLineInterpolated($"[grey]levels {string.Join(",", options.Levels)} · {options.Warmup.TotalSeconds:0.#} s warm-up + {options.Duration.TotalSeconds:0.#} s per point{(options.Quick ? " · quick" : "")}[/]");

foreach (var uri in new[] { options.Base, options.Inventory, options.InventoryNoCache }.OfType<Uri>())
{
    LoadRunner.EnsureLoopback(uri);
}

ShopStack stack = null!;
await AnsiConsole.Status().StartAsync(options.Base is null ? "Booting a fresh Shop (AppHost, databases, services)…" : $"Attaching to {options.Base}…", async _ =>
{
    stack = options.Base is null ? await ShopStack.BootAsync(options, ct) : ShopStack.Attach(options);
});
await using var stackScope = stack;
AnsiConsole.MarkupLineInterpolated($"Stack: [green]{stack.Description}[/] (gateway {stack.Gateway}) in {clock.Elapsed.TotalSeconds:0} s");

var results = new BenchResults
{
    StartedAt = DateTime.UtcNow,
    Command = "./shop bench " + string.Join(' ', args),
    Label = options.Label,
    Machine = machine,
    Stack = stack.Description,
    DurationSeconds = options.Duration.TotalSeconds,
    WarmupSeconds = options.Warmup.TotalSeconds,
    PrimeSeconds = options.Prime.TotalSeconds,
    PrimeMaxSeconds = Math.Max(options.Prime.TotalSeconds, options.PrimeMax.TotalSeconds),
    HeadlineConcurrency = options.HeadlineConcurrency,
    LoadGeneratorSpinLimit = LoadRunner.ThreadPoolSpinLimit(),
};

BenchData data = null!;
await AnsiConsole.Status().StartAsync($"Creating {options.Skus} skus and {options.Users} shoppers…", async _ => data = await BenchData.CreateAsync(stack.Gateway, options, ct));

// Memory: the service processes, found below the processes DCP started (or by name when attached).
var pids = new Dictionary<string, int>();
foreach (var (resource, process) in ShopStack.Services)
{
    if (ServiceProcesses.Find(process, stack.ProcessId(resource), repoRoot) is { } pid)
    {
        pids[process] = pid;
    }
    else
    {
        results.Notes.Add($"Process {process} not found; its memory is not reported.");
    }
}
await using var sampler = new RssSampler(pids);
// Scenario 1c's proxy: metered and watched for its JIT like the services, but not one of them (no RSS row).
// A booted stack has DCP start it beside the gateway (ShopStack.AddReferenceProxies); attached, it is a child of ours.
await using var bareYarpChild = stack.BareYarp is null && options.Runs("gateway") && stack.Inventory is { } inventoryAddress
    ? await BareYarpProxy.StartAsync(inventoryAddress, ct)
    : null;
var bareYarp = stack.BareYarp ?? (bareYarpChild is null ? null : new ShopStack.ReferenceProxy(bareYarpChild.Address, bareYarpChild.Pid));
var metered = bareYarp is null ? pids : new Dictionary<string, int>(pids) { ["bare YARP"] = bareYarp.Pid };
var cpu = CpuMeter.For(metered, stack.ServerPorts);
// Scenario 2's cache-less Inventory: metered (its CPU is the uncached read's), but not a service of the Shop.
if (stack.ProcessId(ShopStack.NoCacheInventory) is { } noCacheLauncher && ServiceProcesses.Find("Shop.Inventory", noCacheLauncher, repoRoot) is { } noCachePid)
{
    cpu.Add("Shop.Inventory (cache off)", noCachePid);
}
var jit = new TieredJit(metered.Values);

var primed = new HashSet<string>();
async Task<PointResult> MeasureAsync(string phase, string series, int concurrency, Uri target, Func<HttpClient, LoadRunner.Operation> operation)
{
    sampler.Phase = phase;
    if (primed.Add(series))
    {
        using var primer = LoadRunner.Client(target, options.HeadlineConcurrency);
        var priming = Stopwatch.StartNew();
        await LoadRunner.PrimeAsync(operation(primer), options.HeadlineConcurrency, options.Prime);
        // Then on while the services still compile hot methods: a slice in which their tiered-compilation
        // workers used more than 2 % of a core means the next points would measure the JIT, not the Shop.
        var slice = TimeSpan.FromSeconds(5);
        while (pids.Count > 0 && priming.Elapsed + slice <= options.PrimeMax)
        {
            var before = jit.Read();
            await LoadRunner.PrimeAsync(operation(primer), options.HeadlineConcurrency, slice);
            if (TieredJit.Spent(before, jit.Read()) < 0.02 * slice.TotalSeconds)
            {
                break;
            }
        }
        results.PrimedSecondsBySeries[series] = Math.Round(priming.Elapsed.TotalSeconds, 1);
        AnsiConsole.MarkupLineInterpolated($"[grey]  primed {priming.Elapsed.TotalSeconds:0} s at c={options.HeadlineConcurrency}[/]");
    }
    using var http = LoadRunner.Client(target, concurrency);
    // CPU from the end of the warm-up to the end of the series, divided by the requests measured in it.
    var cpuAtStart = Task.Run(async () => { await Task.Delay(options.Warmup); return (cpu.Read(), MachineCpu.Read()); });
    var result = await LoadRunner.RunAsync(series, concurrency, options.Warmup, options.Duration, operation(http));
    var (processesAtStart, machineAtStart) = await cpuAtStart;
    var perRequest = CpuMeter.PerRequestMs(processesAtStart, cpu.Read(), result.Requests);
    var machine = MachineCpu.Between(machineAtStart, MachineCpu.Read(), result.Requests, perRequest.Values.Sum());
    results.Points.Add(result);
    results.CpuMsPerRequest[$"{series} c={concurrency}"] = perRequest;
    results.MachineCpu[$"{series} c={concurrency}"] = machine;
    var errors = result.Errors == 0 ? "[green]0 errors[/]" : $"[red]{result.Errors} errors ({Markup.Escape(string.Join(", ", result.ErrorKinds.Select(e => $"{e.Key}×{e.Value}")))})[/]";
    AnsiConsole.MarkupLine($"  {Markup.Escape(series),-42} c={concurrency,-3} [bold]{result.Throughput,8:0.0}/s[/]  p50 {result.P50Ms,7:0.00}  p95 {result.P95Ms,7:0.00}  p99 {result.P99Ms,7:0.00} ms  {errors}");
    if (perRequest.Count > 0)
    {
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"      CPU ms/request: {string.Join(", ", perRequest.Where(p => p.Value > 0.0005).OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value:0.000}"))}; total {perRequest.Values.Sum():0.000}; machine {machine.BusyShare:P0} busy, {machine.BusyMsPerRequest:0.000} ms/request (softirq {machine.SoftIrqMsPerRequest:0.000}, unmetered {machine.UnmeteredMsPerRequest:0.000})")));
    }
    return result;
}

// 1 + 2: reads through the gateway, direct (cache warm) and direct to the cache-less Inventory.
if (options.Runs("gateway") || options.Runs("cache"))
{
    AnsiConsole.Write(new Rule("1–2. Item reads: gateway overhead and cache").LeftJustified());
    if (stack.Inventory is null)
    {
        results.Notes.Add("Scenarios 1–2 direct reads skipped: no Inventory address (attach mode needs --inventory URL).");
    }
    if (stack.InventoryNoCache is null && options.Runs("cache"))
    {
        results.Notes.Add("Scenario 2 cache-off side skipped: attach mode needs --inventory-nocache URL of an Inventory started with Inventory__Cache__Enabled=false.");
    }
    // The reference proxy in front of the same Inventory (scenario 1b).
    NginxProxy? nginxChild = null;
    var nginx = stack.Nginx;
    if (nginx is null && options.Runs("gateway") && stack.Inventory is { } upstream && NginxProxy.FindBinary() is { } nginxBinary)
    {
        nginxChild = await NginxProxy.StartAsync(nginxBinary, upstream, ct);
        nginx = new ShopStack.ReferenceProxy(nginxChild.Address, nginxChild.Pid);
    }
    await using var nginxScope = nginxChild;
    if (nginx is not null)
    {
        cpu.Add("nginx", nginx.Pid);
    }
    else if (options.Runs("gateway"))
    {
        results.Notes.Add("Scenario 1b skipped: nginx not found (apt install nginx-light; ./shop bench installs it).");
    }
    foreach (var c in options.Levels)
    {
        if (options.Runs("gateway"))
        {
            await MeasureAsync("reads", Scenarios.Gateway, c, stack.Gateway, h => Scenarios.ReadItem(h, data));
        }
        if (bareYarp is not null)
        {
            await MeasureAsync("reads", Scenarios.BareYarp, c, bareYarp.Address, h => Scenarios.ReadItem(h, data));
        }
        if (nginx is not null)
        {
            await MeasureAsync("reads", Scenarios.Nginx, c, nginx.Address, h => Scenarios.ReadItem(h, data));
        }
        if (stack.Inventory is { } direct)
        {
            await MeasureAsync("reads", Scenarios.Direct, c, direct, h => Scenarios.ReadItem(h, data));
        }
        if (options.Runs("cache") && stack.InventoryNoCache is { } noCache)
        {
            await MeasureAsync("reads", Scenarios.NoCache, c, noCache, h => Scenarios.ReadItem(h, data));
        }
    }
}

// 3: orders, then the stock check.
if (options.Runs("orders"))
{
    AnsiConsole.Write(new Rule("3. Order placement").LeftJustified());
    var before = await data.StockAsync(stack.Gateway, ct);
    var units = new StrongBox<long>(0);
    // Every order is also delivered to a webhook subscriber, as in a shop with an integration (scenario
    // "webhooks"; left out, the order series is comparable with runs from before it existed).
    await using var webhooks = options.Runs("webhooks") ? await WebhookLatency.StartAsync(stack.Gateway, data.AdminToken, ct) : null;
    // "tracing": the same orders alternated, sampled at the gateway's ratio and with every trace exported.
    var sink = options.Runs("tracing") ? stack.TraceSink : null;
    if (options.Runs("tracing") && sink is null)
    {
        results.Notes.Add("Scenario tracing skipped: it needs the booted stack (the bench points the services at its own OTLP sink).");
    }
    async Task MeasureOrdersAsync(int c, bool traced)
    {
        var series = traced ? Scenarios.OrdersEveryTrace : Scenarios.Orders;
        var bytesBefore = sink?.TraceBytes ?? 0;
        var point = await MeasureAsync("orders", series, c, stack.Gateway, h => Scenarios.PlaceOrder(h, data, units, webhooks, traced));
        if (sink is not null)
        {
            results.TraceBytesPerRequest[$"{series} c={c}"] = (sink.TraceBytes - bytesBefore) / (double)Math.Max(1, point.Requests);
        }
    }
    for (var i = 0; i < options.Levels.Length; i++)
    {
        // With tracing, the two series take turns going first, so neither always runs on a fresher stack.
        var everyTraceFirst = sink is not null && i % 2 == 1;
        await MeasureOrdersAsync(options.Levels[i], traced: everyTraceFirst);
        if (sink is not null)
        {
            await MeasureOrdersAsync(options.Levels[i], traced: !everyTraceFirst);
        }
    }
    var after = await data.StockAsync(stack.Gateway, ct);
    var stored = await data.UnitsInStoredOrdersAsync(stack.Gateway, ct);
    results.Stock = new StockCheck(before.Values.Sum(), after.Values.Sum(), units.Value, stored);
    if (webhooks is not null)
    {
        var w = results.Webhooks = await webhooks.CollectAsync(results.Stock.Deducted / Scenarios.UnitsPerOrder, TimeSpan.FromSeconds(30), ct);
        await webhooks.UnsubscribeAsync(stack.Gateway, data.AdminToken, ct);
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"  webhook deliveries: {w.Delivered:N0} of {w.OrdersPlaced:N0} orders, 201 answered → delivery received p50 {w.P50Ms:0.0}  p95 {w.P95Ms:0.0}  p99 {w.P99Ms:0.0}  max {w.MaxMs:0.0} ms"));
    }
    // The verdict is markup; only numbers are interpolated, so nothing needs escaping.
    var verdict = results.Stock.Consistent ? "[green]consistent[/]" : "[red]INCONSISTENT[/]";
    AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"  stock check: deducted {results.Stock.Deducted:N0}, in stored orders {stored:N0}, in 201 answers {units.Value:N0} → {verdict}"));
}

// 4: pgbench on the same PostgreSQL server, and a trivial Kestrel endpoint.
if (options.Runs("pgbench"))
{
    AnsiConsole.Write(new Rule("4. Physical limits: pgbench").LeftJustified());
    var binary = Pgbench.FindBinary();
    if (stack.PostgresConnectionString is null || binary is null)
    {
        results.Notes.Add(binary is null ? "pgbench skipped: binary not found (apt install postgresql-client-15)." : "pgbench skipped: attach mode needs --pg CONNECTION-STRING of the PostgreSQL server.");
    }
    else
    {
        sampler.Phase = "pgbench";
        var pgbench = new Pgbench(stack.PostgresConnectionString, options.PgbenchScale);
        await AnsiConsole.Status().StartAsync($"pgbench -i -s {options.PgbenchScale}…", async _ => await pgbench.InitializeAsync(binary, ct));
        results.PgbenchDescription = pgbench.Describe();
        foreach (var c in options.Levels)
        {
            var p = await pgbench.MeasureAsync(binary, c, options.Duration, ct);
            results.Points.Add(p);
            AnsiConsole.MarkupLine($"  {Markup.Escape(p.Series),-42} c={c,-3} [bold]{p.Throughput,8:0.0}/s[/]  p50 {p.P50Ms,7:0.00}  p95 {p.P95Ms,7:0.00}  p99 {p.P99Ms,7:0.00} ms  {p.Errors} failed");
        }
    }
}
if (options.Runs("kestrel"))
{
    AnsiConsole.Write(new Rule("4. Physical limits: trivial Kestrel endpoint").LeftJustified());
    await using var trivial = await TrivialServer.StartAsync(ct);
    cpu.Add("trivial endpoint", trivial.Pid);
    foreach (var c in options.Levels)
    {
        await MeasureAsync("kestrel", Scenarios.Kestrel, c, trivial.Address, Scenarios.Ping);
    }
}

// 5: memory.
foreach (var (service, peak) in sampler.Peaks())
{
    results.PeakRssMiB[service] = Math.Round(peak, 1);
}
foreach (var phase in sampler.Phases())
{
    foreach (var (service, peak) in sampler.Peaks(phase))
    {
        (results.PeakRssByPhaseMiB.TryGetValue(service, out var map) ? map : results.PeakRssByPhaseMiB[service] = [])[phase] = Math.Round(peak, 1);
    }
}
foreach (var (service, pid) in pids)
{
    if (ServiceProcesses.StatusMiB(pid, "VmHWM") is { } hwm)
    {
        results.HighWaterMarkMiB[service] = Math.Round(hwm, 1);
    }
}
results.TotalSeconds = clock.Elapsed.TotalSeconds;

// Report.
var directory = Path.Combine(Path.IsPathRooted(options.OutputRoot) ? options.OutputRoot : Path.Combine(repoRoot, options.OutputRoot), results.StartedAt.ToString("yyyyMMdd-HHmmss"));
Directory.CreateDirectory(directory);
File.WriteAllText(Path.Combine(directory, "results.json"), JsonSerializer.Serialize(results, BenchResults.Json));
var charts = Charts.Write(directory, results);
var report = Report.Write(directory, results, charts, baseline);

var table = new Table().AddColumns("target", "measured", "met");
foreach (var t in Report.Targets(results))
{
    table.AddRow(Markup.Escape(t.Name), Markup.Escape(t.Figure), t.Met switch { true => "[green]yes[/]", false => "[red]no[/]", null => "—" });
}
var memory = new Table().AddColumns("service", "peak RSS MiB");
foreach (var (service, peak) in results.PeakRssMiB.OrderBy(p => p.Key))
{
    memory.AddRow(service, peak.ToString("0"));
}
AnsiConsole.Write(table);
AnsiConsole.Write(memory);
AnsiConsole.MarkupLineInterpolated($"Report: [link]{report}[/] ({clock.Elapsed.TotalSeconds:0} s in all)");
return 0;

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Shop.sln")))
        {
            return dir.FullName;
        }
    }
    return Directory.GetCurrentDirectory();
}
