using System.Globalization;

namespace Shop.Bench;

/// <summary>Command-line options. Every scenario is bounded by a fixed duration and a fixed concurrency.</summary>
public sealed record BenchOptions
{
    public Uri? Base { get; init; }
    public Uri? Inventory { get; init; }
    public Uri? InventoryNoCache { get; init; }
    public string? PostgresConnectionString { get; init; }
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan Prime { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Priming goes on past <see cref="Prime"/>, in slices, while the services are still compiling hot methods; at most this long.</summary>
    public TimeSpan PrimeMax { get; init; } = TimeSpan.FromSeconds(150);
    public int[] Levels { get; init; } = [1, 8, 32, 64];
    public int HeadlineConcurrency { get; init; } = 8;
    public HashSet<string> Scenarios { get; init; } = [.. DefaultScenarios];
    public string OutputRoot { get; init; } = "bench-results";
    public string? Label { get; init; }
    public int Users { get; init; } = 16;
    public int Skus { get; init; } = 32;
    public int PgbenchScale { get; init; } = 10;
    public bool Quick { get; init; }
    public bool Verbose { get; init; }
    public string AdminEmail { get; init; } = "admin@shop.local";
    public string AdminPassword { get; init; } = "Admin123!";

    public static readonly string[] DefaultScenarios = ["gateway", "cache", "orders", "webhooks", "pgbench", "kestrel"];

    /// <summary>"tracing" only when asked: it makes the booted stack export traces, which every other series would then pay for.</summary>
    public static readonly string[] AllScenarios = [.. DefaultScenarios, "tracing"];

    /// <summary>The share of root traces the gateway keeps in the "tracing" scenario: the deployments' default.</summary>
    public const double TracingSampleRatio = 0.1;

    public const string Usage = """
        Shop.Bench: fixed-duration, fixed-concurrency closed-loop benchmarks of the Shop (issue 9).

          ./shop bench [options]

          (no --base)             boot a fresh, isolated Shop with throw-away data (Aspire.Hosting.Testing)
          --base URL              attach to a running gateway instead (e.g. http://localhost:8080)
          --inventory URL         attach mode: the Inventory service's own address (scenarios 1, 2)
          --inventory-nocache URL attach mode: an Inventory started with Inventory__Cache__Enabled=false (scenario 2)
          --pg CONNSTRING         attach mode: a PostgreSQL server for pgbench (scenario 4)
          --duration SECONDS      measured time per point (default 5)
          --warmup SECONDS        unmeasured time before each point (default 1)
          --prime SECONDS         unmeasured load before each series' first point, at the headline
                                  concurrency (default 10); it goes on in 5 s slices while the services'
                                  tiered-compilation workers are still busy, so points measure warm services
          --prime-max SECONDS     the longest priming per series (default 150; --quick: no extension)
          --levels 1,8,32,64      concurrency levels
          --scenarios LIST        any of gateway,cache,orders,webhooks,pgbench,kestrel (default all of these;
                                  webhooks needs orders), and tracing (opt-in, with orders): the booted stack
                                  exports traces to an OTLP sink here, the gateway samples 10 % of root traces,
                                  and orders run again with every trace exported (a sampled traceparent),
                                  the two series taking turns going first
          --quick                 ~1-minute smoke run: levels 1,8, 2 s per point
          --label TEXT            a label written into the report (e.g. "before", "after")
          --out DIR               results root (default bench-results)
          --baseline=PATH         add a before/after table against an earlier run's results.json
          --verbose               show the services' warnings and errors (booted stack)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        var quick = args.Contains("--quick");
        if (quick)
        {
            o = o with { Quick = true, Duration = TimeSpan.FromSeconds(2), Warmup = TimeSpan.FromSeconds(0.5), Prime = TimeSpan.FromSeconds(3), PrimeMax = TimeSpan.FromSeconds(3), Levels = [1, 8], Users = 8, Skus = 8, PgbenchScale = 2 };
        }
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            double Seconds() => double.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--quick" => o,
                "--verbose" => o with { Verbose = true },
                "--base" => o with { Base = new Uri(Next()) },
                "--inventory" => o with { Inventory = new Uri(Next()) },
                "--inventory-nocache" => o with { InventoryNoCache = new Uri(Next()) },
                "--pg" => o with { PostgresConnectionString = Next() },
                "--duration" => o with { Duration = TimeSpan.FromSeconds(Seconds()) },
                "--warmup" => o with { Warmup = TimeSpan.FromSeconds(Seconds()) },
                "--prime" => o with { Prime = TimeSpan.FromSeconds(Seconds()) },
                "--prime-max" => o with { PrimeMax = TimeSpan.FromSeconds(Seconds()) },
                "--levels" => o with { Levels = [.. Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).Where(n => n > 0).Distinct().Order()] },
                "--scenarios" => o with { Scenarios = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] },
                "--label" => o with { Label = Next() },
                "--out" => o with { OutputRoot = Next() },
                "--users" => o with { Users = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--skus" => o with { Skus = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--pgbench-scale" => o with { PgbenchScale = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--admin-email" => o with { AdminEmail = Next() },
                "--admin-password" => o with { AdminPassword = Next() },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }
        var unknown = o.Scenarios.Except(AllScenarios).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown scenario(s): {string.Join(", ", unknown)}.");
        }
        if (o.Levels.Length == 0)
        {
            throw new ArgumentException("--levels needs at least one positive number.");
        }
        var headline = o.Levels.Contains(8) ? 8 : o.Levels[Math.Min(1, o.Levels.Length - 1)];
        return o with { HeadlineConcurrency = headline };
    }

    public bool Runs(string scenario) => Scenarios.Contains(scenario);
}
