using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using HdrHistogram;

namespace Shop.Bench;

/// <summary>One measured point: a series at one concurrency level.</summary>
public sealed record PointResult(
    string Series, int Concurrency, long Requests, long Errors, double Seconds,
    double Throughput, double P50Ms, double P95Ms, double P99Ms, double MaxMs,
    IReadOnlyDictionary<string, long> ErrorKinds)
{
    /// <summary>A point measured by an external tool (pgbench), which reports its own figures.</summary>
    public static PointResult External(string series, int concurrency, long count, double seconds, double throughput, double p50, double p95, double p99, double max, long errors) =>
        new(series, concurrency, count, errors, seconds, throughput, p50, p95, p99, max, new Dictionary<string, long>());
}

/// <summary>
/// Closed-loop load: <c>concurrency</c> workers each send one request, wait for its answer, and send the
/// next, for a warm-up (not recorded) and then a fixed measured duration. Latency goes to per-worker
/// HdrHistograms (microseconds), merged at the end; an error is anything the operation reports as one.
/// </summary>
public static class LoadRunner
{
    /// <summary>The runtime's variable for the thread pool's spin limit; it wins over runtimeconfig.json.</summary>
    public const string SpinLimitVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    private const int RuntimeDefaultSpinLimit = 70;

    /// <summary>
    /// How many times this process's idle thread-pool workers spin before they sleep: <see cref="SpinLimitVariable"/>
    /// (hex, as the runtime reads it) when set, else runtimeconfig.json's value (Shop.Bench.csproj: 0), else the
    /// runtime's default. Null when the variable is not a number the runtime would read.
    /// </summary>
    public static int? ThreadPoolSpinLimit()
    {
        if (Environment.GetEnvironmentVariable(SpinLimitVariable) is { Length: > 0 } hex)
        {
            var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
            return int.TryParse(digits, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var limit) ? limit : null;
        }
        return AppContext.GetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit") is { } configured
            ? Convert.ToInt32(configured, System.Globalization.CultureInfo.InvariantCulture)
            : RuntimeDefaultSpinLimit;
    }

    /// <summary>Returns null on success, or a short error kind ("503", "timeout", …).</summary>
    public delegate Task<string?> Operation(int worker, CancellationToken ct);

    public static async Task<PointResult> RunAsync(string series, int concurrency, TimeSpan warmup, TimeSpan duration, Operation operation)
    {
        var errors = new ConcurrentDictionary<string, long>();
        var histograms = new LongHistogram[concurrency];
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var end = measureFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        using var hardStop = new CancellationTokenSource(warmup + duration + TimeSpan.FromSeconds(30));

        async Task WorkerAsync(int worker)
        {
            var histogram = histograms[worker] = new LongHistogram(TimeSpan.FromMinutes(1).Ticks / 10, 3);
            await Task.Yield();
            while (true)
            {
                var begin = Stopwatch.GetTimestamp();
                if (begin >= end)
                {
                    return;
                }
                string? error;
                try
                {
                    error = await operation(worker, hardStop.Token);
                }
                catch (TaskCanceledException) when (!hardStop.IsCancellationRequested)
                {
                    error = "timeout";
                }
                catch (HttpRequestException e)
                {
                    error = e.HttpRequestError.ToString();
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                if (error is not null)
                {
                    errors.AddOrUpdate(error, 1, (_, n) => n + 1);
                }
                else if (begin >= measureFrom)
                {
                    histogram.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(begin).TotalMicroseconds));
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(() => WorkerAsync(w))));
        var merged = new LongHistogram(TimeSpan.FromMinutes(1).Ticks / 10, 3);
        foreach (var h in histograms)
        {
            merged.Add(h);
        }
        var seconds = duration.TotalSeconds;
        double Ms(double percentile) => merged.TotalCount == 0 ? 0 : merged.GetValueAtPercentile(percentile) / 1000.0;
        return new PointResult(series, concurrency, merged.TotalCount, errors.Values.Sum(), seconds,
            merged.TotalCount / seconds, Ms(50), Ms(95), Ms(99), merged.TotalCount == 0 ? 0 : merged.GetMaxValue() / 1000.0,
            new Dictionary<string, long>(errors));
    }

    /// <summary>
    /// Runs a series' operation unmeasured for <paramref name="duration"/> with
    /// <paramref name="concurrency"/> workers before its first point. The services were just started:
    /// without this the first points measure the JIT (tiered compilation promotes hot methods only
    /// after they ran a while, and compiles them on the same two cores), EF Core's query compilation
    /// and empty connection pools, not the steady state a running shop is in. Errors here are not counted.
    /// </summary>
    public static async Task PrimeAsync(Operation operation, int concurrency, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource(duration);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await operation(worker, stop.Token);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                }
            }
        }));
    }

    /// <summary>
    /// A client for one point: its own connection pool of exactly <paramref name="concurrency"/>
    /// connections (one per worker), no cookies, proxies, redirects or decompression; loopback only.
    /// </summary>
    public static HttpClient Client(Uri baseAddress, int concurrency)
    {
        EnsureLoopback(baseAddress);
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public static void EnsureLoopback(Uri address)
    {
        if (!address.IsLoopback)
        {
            throw new ArgumentException($"{address} is not a loopback address; the benchmark only talks to this machine.");
        }
    }
}
