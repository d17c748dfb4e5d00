using System.Globalization;

namespace Shop.Bench;

/// <summary>
/// How much CPU the services' tiered-compilation workers spend (Linux <c>/proc</c>, per thread). The runtime
/// recompiles a service's hot methods with full optimisation on a background thread named
/// ".NET Tiered Compilation Worker" once they have run a while; until that thread goes quiet, the service is
/// still warming up. Measured (docs/performance.md, "The orders series measured the JIT"): under order load
/// Orders keeps that thread busy for about a minute, far longer than a fixed ten-second priming.
/// </summary>
public sealed class TieredJit(IEnumerable<int> pids)
{
    private const string WorkerName = ".NET Tiered Com"; // the kernel keeps 15 characters of a thread name
    private readonly int[] _pids = [.. pids];

    /// <summary>CPU seconds used so far by each worker thread, by (process, thread).</summary>
    public Dictionary<(int Pid, int Tid), double> Read()
    {
        var seconds = new Dictionary<(int, int), double>();
        foreach (var pid in _pids)
        {
            string[] tasks;
            try
            {
                tasks = Directory.GetDirectories($"/proc/{pid}/task");
            }
            catch (IOException)
            {
                continue; // the process ended
            }
            foreach (var task in tasks)
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == WorkerName)
                    {
                        // A thread's cutime/cstime are its whole process's: count only its own time.
                        seconds[(pid, int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture))] =
                            CpuMeter.StatCpuSeconds(File.ReadAllText(Path.Combine(task, "stat")), withChildren: false);
                    }
                }
                catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
                {
                    // the thread ended while we looked
                }
            }
        }
        return seconds;
    }

    /// <summary>
    /// CPU seconds the workers spent between two readings. A worker that started in between counts whole;
    /// one that ended in between is lost, which is harmless: the runtime ends it only after it sat idle.
    /// </summary>
    public static double Spent(Dictionary<(int Pid, int Tid), double> before, Dictionary<(int Pid, int Tid), double> after) =>
        after.Sum(a => a.Value - before.GetValueOrDefault(a.Key));
}
