using System.Text.Json;

namespace Shop.Bench;

/// <param name="UnitsInSuccessfulOrders">Units in the 201 answers the load generator received.</param>
/// <param name="UnitsInStoredOrders">Units in the orders Orders stored (the server's truth; can exceed the
/// client's count when the client gave up on a request the server still completed).</param>
public sealed record StockCheck(long InitialTotal, long FinalTotal, long UnitsInSuccessfulOrders, long UnitsInStoredOrders)
{
    public long Deducted => InitialTotal - FinalTotal;
    public bool Consistent => Deducted == UnitsInStoredOrders && UnitsInStoredOrders >= UnitsInSuccessfulOrders;
}

/// <summary>Everything a run measured; written as results.json next to the report (and readable as a baseline).</summary>
public sealed record BenchResults
{
    // Issue 18's targets.
    public const double RssTargetMiB = 200;
    public const double GatewayTarget = 0.70;
    /// <summary>The gateway's added p50 at one client may be at most this multiple of nginx's.</summary>
    public const double GatewayVsNginxAddedLatency = 1.2;
    public const double CacheTarget = 3.0;
    public const double OrdersVsPgbenchTarget = 0.25;
    public const double OrdersP99TargetMs = 60;
    public const double WebhookP50TargetMs = 100;

    public required DateTime StartedAt { get; init; }
    public required string Command { get; init; }
    public string? Label { get; init; }
    public required MachineInfo Machine { get; init; }
    public required string Stack { get; init; }
    public required double DurationSeconds { get; init; }
    public required double WarmupSeconds { get; init; }
    public double PrimeSeconds { get; init; }
    public double PrimeMaxSeconds { get; init; }
    /// <summary>How long each series was primed: at least <see cref="PrimeSeconds"/>, longer while the services' JIT was busy.</summary>
    public Dictionary<string, double> PrimedSecondsBySeries { get; init; } = [];
    public required int HeadlineConcurrency { get; init; }
    /// <summary>The load generator's thread-pool spin limit (<see cref="LoadRunner.ThreadPoolSpinLimit"/>); the servers keep the runtime's.</summary>
    public int? LoadGeneratorSpinLimit { get; init; }
    public List<PointResult> Points { get; init; } = [];
    public Dictionary<string, double> PeakRssMiB { get; init; } = [];
    public Dictionary<string, Dictionary<string, double>> PeakRssByPhaseMiB { get; init; } = [];
    public Dictionary<string, double> HighWaterMarkMiB { get; init; } = [];
    /// <summary>Per series and level ("POST /orders/ via gateway c=8"): CPU milliseconds per request of each process group.</summary>
    public Dictionary<string, Dictionary<string, double>> CpuMsPerRequest { get; init; } = [];
    /// <summary>Per series and level: how busy the whole machine was and its CPU per request (see <see cref="MachinePoint"/>).</summary>
    public Dictionary<string, MachinePoint> MachineCpu { get; init; } = [];
    /// <summary>"tracing" scenario: bytes of trace exports the sink received during a series' point (warm-up included), per measured request.</summary>
    public Dictionary<string, double> TraceBytesPerRequest { get; init; } = [];
    public StockCheck? Stock { get; set; }
    public WebhookDelivery? Webhooks { get; set; }
    public List<string> Notes { get; init; } = [];
    public string? PgbenchDescription { get; set; }
    public double TotalSeconds { get; set; }

    public PointResult? Point(string series, int concurrency) =>
        Points.FirstOrDefault(p => p.Series == series && p.Concurrency == concurrency);

    public static double? Ratio(PointResult? a, PointResult? b) =>
        a is null || b is null || b.Throughput == 0 ? null : a.Throughput / b.Throughput;

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static BenchResults? Load(string path) => JsonSerializer.Deserialize<BenchResults>(File.ReadAllText(path), Json);
}
