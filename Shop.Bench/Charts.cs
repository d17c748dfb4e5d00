using ScottPlot;

namespace Shop.Bench;

/// <summary>PNG charts of a run (ScottPlot): what a person would rather look at than read.</summary>
public static class Charts
{
    public static List<string> Write(string directory, BenchResults results)
    {
        var files = new List<string>();
        var levels = results.Points.Select(p => p.Concurrency).Distinct().Order().ToArray();
        double X(int level) => Array.IndexOf(levels, level);
        Tick[] LevelTicks() => [.. levels.Select((l, i) => new Tick(i, l.ToString()))];

        // 1. Throughput vs concurrency, every series.
        {
            var plot = new Plot();
            foreach (var series in results.Points.Select(p => p.Series).Distinct())
            {
                var points = results.Points.Where(p => p.Series == series).OrderBy(p => p.Concurrency).ToList();
                // Log scale: orders/s and a trivial endpoint's req/s differ by ~500×; both must be readable.
                var line = plot.Add.Scatter(points.Select(p => X(p.Concurrency)).ToArray(), points.Select(p => Math.Log10(Math.Max(1, p.Throughput))).ToArray());
                line.LegendText = series;
                line.LineWidth = 2;
                line.MarkerSize = 7;
            }
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(LevelTicks());
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                [.. Enumerable.Range(0, 6).Select(e => new Tick(e, Math.Pow(10, e).ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))]);
            plot.Title("Throughput vs concurrency (closed loop, higher is better)");
            plot.XLabel("concurrent clients");
            plot.YLabel("requests (transactions) per second, log scale");
            plot.Axes.SetLimitsY(0, 5.3);
            // Below every series (the slowest, orders, stays above 10/s): the legend hides no point.
            plot.ShowLegend(Alignment.LowerRight);
            files.Add(Save(plot, directory, "throughput.png"));
        }

        // 2. Latency percentiles at the headline concurrency, one group per series.
        {
            var plot = new Plot();
            var atHeadline = results.Points.Where(p => p.Concurrency == results.HeadlineConcurrency).ToList();
            string[] names = ["p50", "p95", "p99"];
            var colors = new[] { Colors.SteelBlue, Colors.Orange, Colors.Crimson };
            var bars = new List<Bar>();
            for (var s = 0; s < atHeadline.Count; s++)
            {
                double[] values = [atHeadline[s].P50Ms, atHeadline[s].P95Ms, atHeadline[s].P99Ms];
                for (var k = 0; k < 3; k++)
                {
                    bars.Add(new Bar { Position = s * 4 + k, Value = values[k], FillColor = colors[k], Label = values[k].ToString("0.0") });
                }
            }
            var barPlot = plot.Add.Bars(bars);
            barPlot.ValueLabelStyle.FontSize = 10;
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                [.. atHeadline.Select((p, s) => new Tick(s * 4 + 1, Wrap(p.Series)))]);
            plot.Legend.ManualItems.AddRange(names.Select((n, k) => new LegendItem { LabelText = n, FillColor = colors[k] }));
            plot.ShowLegend(Alignment.UpperLeft);
            plot.Title($"Latency percentiles at {results.HeadlineConcurrency} concurrent clients (ms, lower is better)");
            plot.YLabel("milliseconds");
            plot.Axes.Margins(bottom: 0);
            files.Add(Save(plot, directory, "latency.png", width: 1100));
        }

        // 3. Order placement latency vs concurrency.
        var orders = results.Points.Where(p => p.Series == Scenarios.Orders).OrderBy(p => p.Concurrency).ToList();
        if (orders.Count > 0)
        {
            var plot = new Plot();
            foreach (var (name, pick) in new (string, Func<PointResult, double>)[] { ("p50", p => p.P50Ms), ("p95", p => p.P95Ms), ("p99", p => p.P99Ms) })
            {
                var line = plot.Add.Scatter(orders.Select(p => X(p.Concurrency)).ToArray(), orders.Select(pick).ToArray());
                line.LegendText = name;
                line.LineWidth = 2;
            }
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(LevelTicks());
            plot.Title("POST /orders/ latency vs concurrency");
            plot.XLabel("concurrent clients");
            plot.YLabel("milliseconds");
            plot.Axes.Margins(bottom: 0);
            plot.ShowLegend(Alignment.UpperLeft);
            files.Add(Save(plot, directory, "orders-latency.png"));
        }

        // 4. Peak RSS per service.
        if (results.PeakRssMiB.Count > 0)
        {
            var plot = new Plot();
            var services = results.PeakRssMiB.OrderBy(p => p.Key).ToList();
            plot.Add.Bars(services.Select((s, i) => new Bar { Position = i, Value = s.Value, Label = s.Value.ToString("0"), FillColor = s.Value < BenchResults.RssTargetMiB ? Colors.SeaGreen : Colors.Crimson }).ToList());
            var limit = plot.Add.HorizontalLine(BenchResults.RssTargetMiB);
            limit.LinePattern = LinePattern.Dashed;
            limit.LegendText = $"target {BenchResults.RssTargetMiB} MB";
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. services.Select((s, i) => new Tick(i, s.Key))]);
            plot.Title("Peak resident memory per service during the run (MiB)");
            plot.YLabel("MiB");
            plot.Axes.Margins(bottom: 0);
            plot.ShowLegend(Alignment.UpperRight);
            files.Add(Save(plot, directory, "memory.png", width: 700));
        }
        return files;
    }

    private static string Wrap(string series) => series.Replace(" via ", "\nvia ").Replace(" direct", "\ndirect").Replace(" TPC-B", "\nTPC-B").Replace(" Kestrel", "\nKestrel");

    private static string Save(Plot plot, string directory, string name, int width = 900, int height = 520)
    {
        var path = Path.Combine(directory, name);
        plot.SavePng(path, width, height);
        return name;
    }
}
