using System.Globalization;
using System.Text;

namespace Shop.Bench;

/// <summary>The Markdown report: targets first, then a table per scenario, the charts and the caveats.</summary>
public static class Report
{
    public sealed record Target(string Name, string Figure, bool? Met);

    public static List<Target> Targets(BenchResults r)
    {
        var c = r.HeadlineConcurrency;
        var list = new List<Target>();
        var gatewayRatios = r.Points.Where(p => p.Series == Scenarios.Gateway)
            .Select(p => BenchResults.Ratio(p, r.Point(Scenarios.Direct, p.Concurrency))).ToList();
        var worstGateway = gatewayRatios.Count == 0 || gatewayRatios.Any(g => g is null) ? null : gatewayRatios.Min();
        list.Add(new("Gateway ≥ 70 % of direct throughput at every level", worstGateway is { } g ? $"lowest {Pct(g)} (all levels: {Levels(r, Scenarios.Gateway, Scenarios.Direct, Pct)})" : "not measured", worstGateway is null ? null : worstGateway >= BenchResults.GatewayTarget));
        var gatewayAdded = AddedP50(r, Scenarios.Gateway, 1);
        var nginxAdded = AddedP50(r, Scenarios.Nginx, 1);
        var bareAdded = AddedP50(r, Scenarios.BareYarp, 1) is { } b ? $"; bare YARP +{b:0.00} ms" : "";
        list.Add(new("Gateway's added p50 at c=1 ≤ 1.2 × nginx's",
            gatewayAdded is { } ga && nginxAdded is { } na ? $"gateway +{ga:0.00} ms, nginx +{na:0.00} ms ({(na > 0 ? $"{ga / na:0.0}×" : "nginx adds nothing measurable")}){bareAdded}" : "not measured",
            gatewayAdded is { } a && nginxAdded is { } n ? a <= Math.Max(n, 0) * BenchResults.GatewayVsNginxAddedLatency : null));
        var cache = BenchResults.Ratio(r.Point(Scenarios.Direct, c), r.Point(Scenarios.NoCache, c));
        list.Add(new("Warm cache ≥ 3× the uncached read", cache is { } x ? $"{x:0.00}× at c={c} (all levels: {Levels(r, Scenarios.Direct, Scenarios.NoCache, v => $"{v:0.00}×")})" : "not measured", cache is null ? null : cache >= BenchResults.CacheTarget));
        var orders = r.Point(Scenarios.Orders, c);
        var vsPg = BenchResults.Ratio(orders, r.Point(Scenarios.Pgbench, c));
        list.Add(new("Orders ≥ 25 % of pgbench TPC-B tps at the same concurrency", vsPg is { } o ? $"{Pct(o)} at c={c} (all levels: {Levels(r, Scenarios.Orders, Scenarios.Pgbench, Pct)})" : "not measured", vsPg is null ? null : vsPg >= BenchResults.OrdersVsPgbenchTarget));
        list.Add(new("Orders p99 < 60 ms at concurrency 8", r.Point(Scenarios.Orders, 8) is { } o8 ? $"p99 {o8.P99Ms:0.0} ms" : "not measured", r.Point(Scenarios.Orders, 8) is { } p8 ? p8.P99Ms < BenchResults.OrdersP99TargetMs : null));
        list.Add(new("Webhook delivery p50 < 100 ms (order answered → first attempt received)", r.Webhooks is { } w ? $"p50 {w.P50Ms:0.0} ms, p99 {w.P99Ms:0.0} ms ({w.Delivered:N0} of {w.OrdersPlaced:N0} orders delivered)" : "not measured",
            r.Webhooks is { } wh ? wh.P50Ms < BenchResults.WebhookP50TargetMs && wh.Delivered == wh.OrdersPlaced : null));
        var errors = r.Points.Where(p => p.Series != Scenarios.Pgbench).Sum(p => p.Errors);
        list.Add(new("Zero errors", $"{errors} errors in {r.Points.Where(p => p.Series != Scenarios.Pgbench).Sum(p => p.Requests):N0} measured requests", errors == 0));
        if (r.Stock is { } s)
        {
            list.Add(new("Stock consistent after the order runs", $"stock deducted {s.Deducted:N0} = units in stored orders {s.UnitsInStoredOrders:N0} (201 answers: {s.UnitsInSuccessfulOrders:N0})", s.Consistent));
        }
        var maxRss = r.PeakRssMiB.Count == 0 ? (double?)null : r.PeakRssMiB.Values.Max();
        list.Add(new("Each service < 200 MiB RSS", maxRss is { } m ? $"largest peak {m:0} MiB ({r.PeakRssMiB.MaxBy(p => p.Value).Key})" : "not measured", maxRss is null ? null : maxRss < BenchResults.RssTargetMiB));
        return list;
    }

    private static string SpinLimit(BenchResults r) => r.LoadGeneratorSpinLimit switch
    {
        null => "the load generator's thread-pool spinning not recorded",
        0 => "the load generator's idle thread-pool workers sleep without spinning (the servers it starts spin like the services)",
        var limit => $"the load generator's idle thread-pool workers spin up to {limit} times before they sleep",
    };

    private static string Primed(BenchResults r) => r.PrimedSecondsBySeries.Count == 0 ? "no series primed"
        : string.Join(", ", r.PrimedSecondsBySeries.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:0} s")));

    public static string Write(string directory, BenchResults r, IReadOnlyList<string> charts, BenchResults? baseline)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Shop benchmark — {r.StartedAt:yyyy-MM-dd HH:mm} UTC{(r.Label is null ? "" : $" ({r.Label})")}");
        md.AppendLine();
        md.AppendLine($"- **Machine:** {r.Machine}");
        md.AppendLine($"- **Stack:** {r.Stack}");
        md.AppendLine($"- **Command:** `{r.Command}`");
        md.AppendLine($"- **Method:** closed loop on loopback; each series primed with unmeasured load at c={r.HeadlineConcurrency} for at least {r.PrimeSeconds:0.#} s and on while the services' tiered-compilation workers were busy (at most {r.PrimeMaxSeconds:0} s; {Primed(r)}), then each point {r.WarmupSeconds:0.#} s warm-up (not recorded) + {r.DurationSeconds:0.#} s measured; one HTTP/1.1 connection per client; {SpinLimit(r)}; latency in HdrHistogram; whole run {r.TotalSeconds:0} s");
        md.AppendLine();
        md.AppendLine("## Targets (issue 18)");
        md.AppendLine();
        md.AppendLine("| target | measured | met |");
        md.AppendLine("|---|---|---|");
        foreach (var t in Targets(r))
        {
            md.AppendLine($"| {t.Name} | {t.Figure} | {(t.Met switch { true => "✅ yes", false => "❌ no", null => "—" })} |");
        }
        md.AppendLine();
        foreach (var chart in charts)
        {
            md.AppendLine($"![{chart}]({chart})");
        }
        md.AppendLine();

        Section(md, "1. Gateway overhead — `GET /inventory/{sku}` through the gateway vs straight to Inventory", r, Scenarios.Gateway, Scenarios.Direct, "gateway / direct", Pct, added: true);
        Section(md, "1b. The reference proxy — the same read through nginx (keep-alive upstream) vs straight to Inventory", r, Scenarios.Nginx, Scenarios.Direct, "nginx / direct", Pct, added: true);
        Section(md, "1c. YARP alone — the same read through a bare YARP forwarder (one route, no middleware of the Shop's) vs straight to Inventory", r, Scenarios.BareYarp, Scenarios.Direct, "bare YARP / direct", Pct, added: true);
        Section(md, "2. Cache — the same read with Redis warm vs a second Inventory with `Inventory__Cache__Enabled=false`", r, Scenarios.Direct, Scenarios.NoCache, "warm / off", v => $"{v:0.00}×", added: false);

        WriteMachineCpu(md, r);

        md.AppendLine("## 3. Order placement — `POST /orders/` through the gateway");
        md.AppendLine();
        md.AppendLine("Two-line orders (qty 1 + 2), unique `Idempotency-Key` each, shoppers rotated over workers.");
        md.AppendLine();
        md.AppendLine("| clients | orders/s | p50 ms | p95 ms | p99 ms | max ms | errors | pgbench tps | orders / pgbench | orders / trivial HTTP |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in r.Points.Where(p => p.Series == Scenarios.Orders).OrderBy(p => p.Concurrency))
        {
            var pg = r.Point(Scenarios.Pgbench, p.Concurrency);
            md.AppendLine($"| {p.Concurrency} | {p.Throughput:0.0} | {p.P50Ms:0.0} | {p.P95Ms:0.0} | {p.P99Ms:0.0} | {p.MaxMs:0.0} | {ErrorText(p)} | {(pg is null ? "—" : pg.Throughput.ToString("0"))} | {Opt(BenchResults.Ratio(p, pg), Pct)} | {Opt(BenchResults.Ratio(p, r.Point(Scenarios.Kestrel, p.Concurrency)), Pct)} |");
        }
        if (r.Stock is { } s)
        {
            md.AppendLine();
            md.AppendLine($"Stock check over the bench skus: initial {s.InitialTotal:N0}, now {s.FinalTotal:N0}, deducted {s.Deducted:N0}; units in stored, non-cancelled orders {s.UnitsInStoredOrders:N0}; units in the 201 answers received {s.UnitsInSuccessfulOrders:N0} → **{(s.Consistent ? "consistent" : "INCONSISTENT")}**.");
        }
        if (r.Points.Any(p => p.Series == Scenarios.OrdersEveryTrace))
        {
            md.AppendLine();
            md.AppendLine("### 3b. Tracing — the same orders, traces exported to an OTLP sink on 127.0.0.1 (scenario `tracing`)");
            md.AppendLine();
            md.AppendLine("\"sampled\": the gateway keeps 10 % of root traces (the deployments' default) and the services follow it; \"every trace\": each order carries a sampled `traceparent`, so all of its spans in every service are recorded and exported. Both per level in one boot, taking turns going first.");
            md.AppendLine();
            md.AppendLine("| clients | sampled orders/s | every trace orders/s | every trace / sampled | sampled p99 ms | every trace p99 ms | trace bytes per order, sampled / every |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var sampled in r.Points.Where(p => p.Series == Scenarios.Orders).OrderBy(p => p.Concurrency))
            {
                var every = r.Point(Scenarios.OrdersEveryTrace, sampled.Concurrency);
                var bytes = (string series) => r.TraceBytesPerRequest.TryGetValue($"{series} c={sampled.Concurrency}", out var b) ? b.ToString("0") : "—";
                md.AppendLine($"| {sampled.Concurrency} | {sampled.Throughput:0.0} | {(every is null ? "—" : every.Throughput.ToString("0.0"))} | {Opt(BenchResults.Ratio(every, sampled), Pct)} | {sampled.P99Ms:0.0} | {(every is null ? "—" : every.P99Ms.ToString("0.0"))} | {bytes(Scenarios.Orders)} / {bytes(Scenarios.OrdersEveryTrace)} |");
            }
        }
        if (r.Webhooks is { } webhooks)
        {
            md.AppendLine();
            md.AppendLine($"Webhook deliveries to a subscriber on 127.0.0.1 (`order.created`, during the whole order scenario): {webhooks.Delivered:N0} of {webhooks.OrdersPlaced:N0} orders delivered; the order's 201 received by the load generator → its first delivery received ({webhooks.Timed:N0} timed): p50 {webhooks.P50Ms:0.0} ms, p95 {webhooks.P95Ms:0.0} ms, p99 {webhooks.P99Ms:0.0} ms, max {webhooks.MaxMs:0.0} ms.");
        }
        md.AppendLine();

        md.AppendLine("## 4. Physical limits — pgbench and a trivial Kestrel endpoint");
        md.AppendLine();
        if (r.PgbenchDescription is not null)
        {
            md.AppendLine($"pgbench: {r.PgbenchDescription}. Trivial endpoint: a Kestrel app in its own process (Server GC) answering a fixed ~200-byte JSON.");
            md.AppendLine();
        }
        md.AppendLine("| clients | pgbench tps | pgbench p50 / p99 ms | trivial HTTP req/s | trivial p50 / p99 ms | gateway read / trivial | direct read / trivial | orders / pgbench |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in r.Points.Select(p => p.Concurrency).Distinct().Order())
        {
            var pg = r.Point(Scenarios.Pgbench, c);
            var k = r.Point(Scenarios.Kestrel, c);
            md.AppendLine($"| {c} | {(pg is null ? "—" : pg.Throughput.ToString("0"))} | {(pg is null ? "—" : $"{pg.P50Ms:0.0} / {pg.P99Ms:0.0}")} | {(k is null ? "—" : k.Throughput.ToString("0"))} | {(k is null ? "—" : $"{k.P50Ms:0.00} / {k.P99Ms:0.00}")} | {Opt(BenchResults.Ratio(r.Point(Scenarios.Gateway, c), k), Pct)} | {Opt(BenchResults.Ratio(r.Point(Scenarios.Direct, c), k), Pct)} | {Opt(BenchResults.Ratio(r.Point(Scenarios.Orders, c), pg), Pct)} |");
        }
        md.AppendLine();

        md.AppendLine("## 5. Memory — peak RSS of each service process (VmRSS sampled every 200 ms)");
        md.AppendLine();
        var phases = r.PeakRssByPhaseMiB.Values.SelectMany(v => v.Keys).Distinct().ToList();
        md.AppendLine($"| service | peak during run MiB | {string.Join(" | ", phases.Select(p => $"peak in {p}"))} | VmHWM (since start) MiB | < 200 MiB |");
        md.AppendLine($"|---|---:|{string.Concat(phases.Select(_ => "---:|"))}---:|---|");
        foreach (var (service, peak) in r.PeakRssMiB.OrderBy(p => p.Key))
        {
            var byPhase = r.PeakRssByPhaseMiB.GetValueOrDefault(service) ?? [];
            md.AppendLine($"| {service} | {peak:0} | {string.Join(" | ", phases.Select(p => byPhase.TryGetValue(p, out var v) ? v.ToString("0") : "—"))} | {(r.HighWaterMarkMiB.TryGetValue(service, out var hwm) ? hwm.ToString("0") : "—")} | {(peak < BenchResults.RssTargetMiB ? "yes" : "no")} |");
        }
        md.AppendLine();

        if (baseline is not null)
        {
            WriteComparison(md, r, baseline);
        }

        if (r.Notes.Count > 0)
        {
            md.AppendLine("## Notes");
            md.AppendLine();
            foreach (var note in r.Notes)
            {
                md.AppendLine($"- {note}");
            }
            md.AppendLine();
        }
        md.AppendLine("## Caveats");
        md.AppendLine();
        md.AppendLine($"- The load generator, the four services, three PostgreSQL servers, Redis, Vite and Aspire's orchestrator (DCP) all share the same {r.Machine.Cores} cores: every figure is a whole-machine figure, and the client's own CPU use is part of it.");
        md.AppendLine("- As under `dotnet run` of the AppHost, single-instance services, PostgreSQL and Redis listen on their own ports (no DCP proxy in between); pgbench connects to the same PostgreSQL server the same way, so the ratios compare like with like.");
        md.AppendLine("- Short points (seconds) on a shared machine vary run to run by roughly ±10 %; compare ratios measured in one run rather than absolute figures across runs.");
        md.AppendLine("- The OpenTelemetry exporter is off when Shop.Bench boots the stack (no dashboard), as in a deployment without a collector; attached runs include whatever the running app exports.");

        var path = Path.Combine(directory, "report.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    /// <summary>
    /// Per point: how busy the whole machine was, and where its CPU per request went. On a saturated machine a
    /// series' throughput is about (busy cores) ÷ (machine CPU per request), so two series' ratio is explained
    /// by the columns that differ.
    /// </summary>
    private static void WriteMachineCpu(StringBuilder md, BenchResults r)
    {
        if (r.MachineCpu.Count == 0)
        {
            return;
        }
        md.AppendLine("## Where the machine's CPU went, per request");
        md.AppendLine();
        md.AppendLine($"CPU ms per request between the end of each point's warm-up and its end, all {r.Machine.Cores} cores: the whole machine (`/proc/stat`), the metered processes (`/proc/<pid>/stat`: the services, the proxies, PostgreSQL and Redis, the load generator with the AppHost it hosts), and what none of them accounts for (DCP, Vite, kernel threads). \"softirq\" is the kernel's work on loopback packets; it mostly counts in the process it interrupted, so it overlaps the other columns.");
        md.AppendLine();
        md.AppendLine("| point | machine busy | machine ms | load generator | largest metered | softirq | unmetered |");
        md.AppendLine("|---|---:|---:|---:|---|---:|---:|");
        foreach (var (point, m) in r.MachineCpu)
        {
            var processes = r.CpuMsPerRequest.GetValueOrDefault(point) ?? [];
            var largest = processes.Where(p => p.Key != CpuMeter.LoadGenerator && p.Value >= 0.001).OrderByDescending(p => p.Value).Take(3)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:0.000}"));
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {point} | {m.BusyShare:P0} | {m.BusyMsPerRequest:0.000} | {processes.GetValueOrDefault(CpuMeter.LoadGenerator):0.000} | {string.Join(", ", largest)} | {m.SoftIrqMsPerRequest:0.000} | {m.UnmeteredMsPerRequest:0.000} |"));
        }
        md.AppendLine();
    }

    private static void WriteComparison(StringBuilder md, BenchResults after, BenchResults before)
    {
        md.AppendLine($"## Before / after — against {before.Label ?? "the baseline"} ({before.StartedAt:yyyy-MM-dd HH:mm} UTC)");
        md.AppendLine();
        md.AppendLine("| series | clients | before req/s | after req/s | change | before p99 ms | after p99 ms |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var p in after.Points.OrderBy(p => p.Series).ThenBy(p => p.Concurrency))
        {
            if (before.Point(p.Series, p.Concurrency) is { } b)
            {
                md.AppendLine($"| {p.Series} | {p.Concurrency} | {b.Throughput:0.0} | {p.Throughput:0.0} | {(b.Throughput == 0 ? "—" : $"{(p.Throughput / b.Throughput - 1) * 100:+0;-0} %")} | {b.P99Ms:0.0} | {p.P99Ms:0.0} |");
            }
        }
        md.AppendLine();
        md.AppendLine("| service | before peak RSS MiB | after peak RSS MiB |");
        md.AppendLine("|---|---:|---:|");
        foreach (var (service, peak) in after.PeakRssMiB.OrderBy(p => p.Key))
        {
            md.AppendLine($"| {service} | {(before.PeakRssMiB.TryGetValue(service, out var b) ? b.ToString("0") : "—")} | {peak:0} |");
        }
        md.AppendLine();
    }

    private static void Section(StringBuilder md, string title, BenchResults r, string a, string b, string ratioName, Func<double, string> ratio, bool added)
    {
        md.AppendLine($"## {title}");
        md.AppendLine();
        var header = added ? " added p50 ms | added p99 ms |" : "";
        md.AppendLine($"| clients | {a} req/s | {b} req/s | {ratioName} | p50 / p99 ms ({Short(a)}) | p50 / p99 ms ({Short(b)}) |{header} errors |");
        md.AppendLine($"|---:|---:|---:|---:|---:|---:|{(added ? "---:|---:|" : "")}---:|");
        foreach (var c in r.Points.Where(p => p.Series == a || p.Series == b).Select(p => p.Concurrency).Distinct().Order())
        {
            var pa = r.Point(a, c);
            var pb = r.Point(b, c);
            var extra = added ? $" {Opt(pa is null || pb is null ? null : pa.P50Ms - pb.P50Ms, v => v.ToString("0.00"))} | {Opt(pa is null || pb is null ? null : pa.P99Ms - pb.P99Ms, v => v.ToString("0.00"))} |" : "";
            md.AppendLine($"| {c} | {Tp(pa)} | {Tp(pb)} | {Opt(BenchResults.Ratio(pa, pb), ratio)} | {Lat(pa)} | {Lat(pb)} |{extra} {(pa?.Errors ?? 0) + (pb?.Errors ?? 0)} |");
        }
        md.AppendLine();
    }

    private static string Short(string series) =>
        series.Contains("via gateway") ? "gateway" : series.Contains("via nginx") ? "nginx" : series.Contains("via bare YARP") ? "bare YARP" : series.Contains("cache off") ? "cache off" : "direct";

    /// <summary>p50 of a proxied series minus the direct read's, at one level.</summary>
    private static double? AddedP50(BenchResults r, string proxied, int concurrency) =>
        r.Point(proxied, concurrency) is { } p && r.Point(Scenarios.Direct, concurrency) is { } d ? p.P50Ms - d.P50Ms : null;

    private static string Tp(PointResult? p) => p is null ? "—" : p.Throughput.ToString("0");

    private static string Lat(PointResult? p) => p is null ? "—" : $"{p.P50Ms:0.00} / {p.P99Ms:0.00}";

    private static string ErrorText(PointResult p) =>
        p.Errors == 0 ? "0" : $"{p.Errors} ({string.Join(", ", p.ErrorKinds.Select(e => $"{e.Key}×{e.Value}"))})";

    private static string Opt(double? value, Func<double, string> format) => value is { } v ? format(v) : "—";

    public static string Pct(double ratio) => (ratio * 100).ToString("0", CultureInfo.InvariantCulture) + " %";

    private static string Levels(BenchResults r, string a, string b, Func<double, string> format) =>
        string.Join(", ", r.Points.Where(p => p.Series == a).OrderBy(p => p.Concurrency)
            .Select(p => $"{p.Concurrency}: {Opt(BenchResults.Ratio(p, r.Point(b, p.Concurrency)), format)}"));
}
