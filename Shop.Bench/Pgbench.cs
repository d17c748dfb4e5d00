using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using HdrHistogram;
using Npgsql;

namespace Shop.Bench;

/// <summary>
/// Scenario 4's database ceiling: pgbench's built-in TPC-B-like script against its own database on
/// the same PostgreSQL server the Inventory service uses, at the same concurrency as the orders.
/// Latency percentiles come from pgbench's per-transaction log.
/// </summary>
public sealed partial class Pgbench(string connectionString, int scale)
{
    public const string Database = "bench_pgbench";

    private readonly NpgsqlConnectionStringBuilder _server = new(connectionString);

    public static string? FindBinary() =>
        new[] { "/usr/lib/postgresql/15/bin/pgbench", "/usr/bin/pgbench" }.FirstOrDefault(File.Exists);

    public string Describe() => $"pgbench (PostgreSQL {ServerVersion}) built-in TPC-B-like script, scale {scale}, database `{Database}` on the Inventory PostgreSQL server ({_server.Host}:{_server.Port}), `-n -c N -j min(N, cores)`";

    public string ServerVersion { get; private set; } = "?";

    public async Task InitializeAsync(string binary, CancellationToken ct)
    {
        var admin = new NpgsqlConnectionStringBuilder(_server.ConnectionString) { Database = "postgres", Pooling = false };
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync(ct);
            ServerVersion = connection.PostgreSqlVersion.ToString();
            await using var exists = new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname = '{Database}'", connection);
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", connection);
                await create.ExecuteNonQueryAsync(ct);
            }
        }
        await RunAsync(binary, ["-i", "-q", "-s", scale.ToString(CultureInfo.InvariantCulture)], ct);
    }

    public async Task<PointResult> MeasureAsync(string binary, int clients, TimeSpan duration, CancellationToken ct)
    {
        var logDir = Directory.CreateTempSubdirectory("shop-pgbench-");
        try
        {
            var threads = Math.Min(clients, Environment.ProcessorCount);
            var output = await RunAsync(binary,
            [
                "-n", "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", threads.ToString(CultureInfo.InvariantCulture),
                "-T", Math.Max(1, (int)Math.Round(duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture),
                "-l", "--log-prefix", Path.Combine(logDir.FullName, "tx"),
            ], ct);
            var tps = double.Parse(TpsLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
            var failed = FailedLine().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

            // Log lines: client_id transaction_no time_us script_no time_epoch time_us_part
            var histogram = new LongHistogram(TimeSpan.FromMinutes(1).Ticks / 10, 3);
            foreach (var file in logDir.EnumerateFiles("tx*"))
            {
                foreach (var line in File.ReadLines(file.FullName))
                {
                    var fields = line.Split(' ');
                    if (fields.Length > 2 && long.TryParse(fields[2], CultureInfo.InvariantCulture, out var micros) && micros > 0)
                    {
                        histogram.RecordValue(micros);
                    }
                }
            }
            double Ms(double p) => histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(p) / 1000.0;
            return PointResult.External(Scenarios.Pgbench, clients, histogram.TotalCount, duration.TotalSeconds, tps,
                Ms(50), Ms(95), Ms(99), histogram.TotalCount == 0 ? 0 : histogram.GetMaxValue() / 1000.0, failed);
        }
        finally
        {
            logDir.Delete(recursive: true);
        }
    }

    private async Task<string> RunAsync(string binary, IEnumerable<string> args, CancellationToken ct)
    {
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-h", _server.Host!, "-p", _server.Port.ToString(CultureInfo.InvariantCulture), "-U", _server.Username! }.Concat(args))
        {
            start.ArgumentList.Add(a);
        }
        start.ArgumentList.Add(Database);
        start.Environment["PGPASSWORD"] = _server.Password;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start pgbench.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var output = await stdout + await stderr;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pgbench exited with {process.ExitCode}: {output}");
        }
        return output;
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex TpsLine();

    [GeneratedRegex(@"number of failed transactions: ([0-9]+)")]
    private static partial Regex FailedLine();
}
