using System.Globalization;

namespace Shop.Bench;

/// <summary>Finds the Shop's service processes and reads their memory from <c>/proc</c> (Linux only).</summary>
public static class ServiceProcesses
{
    /// <summary>
    /// The process running <paramref name="processName"/>: below <paramref name="launcherPid"/> when DCP
    /// reported one (it starts <c>dotnet run</c>, which starts the service), otherwise any process whose
    /// command line runs it, preferring one built under <paramref name="repoRoot"/>.
    /// </summary>
    public static int? Find(string processName, int? launcherPid, string repoRoot)
    {
        var all = Snapshot();
        if (launcherPid is { } root)
        {
            var family = new HashSet<int> { root };
            for (var grew = true; grew;)
            {
                grew = false;
                foreach (var p in all.Where(p => !family.Contains(p.Pid) && family.Contains(p.ParentPid)))
                {
                    grew |= family.Add(p.Pid);
                }
            }
            var match = all.FirstOrDefault(p => family.Contains(p.Pid) && Runs(p.Args, processName));
            if (match is not null)
            {
                return match.Pid;
            }
        }
        var candidates = all.Where(p => Runs(p.Args, processName)).ToList();
        return (candidates.FirstOrDefault(p => p.Args[0].StartsWith(repoRoot, StringComparison.Ordinal)) ?? candidates.FirstOrDefault())?.Pid;
    }

    private static bool Runs(string[] args, string processName) =>
        args.Length > 0 && !args.Contains("run") &&
        (args[0].EndsWith("/" + processName, StringComparison.Ordinal) ||
         args.Any(a => a.EndsWith("/" + processName + ".dll", StringComparison.Ordinal)));

    internal sealed record ProcessInfo(int Pid, int ParentPid, string[] Args);

    /// <summary>Every process now: id, parent id and command line.</summary>
    internal static List<ProcessInfo> Snapshot()
    {
        var list = new List<ProcessInfo>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // "pid (comm) state ppid …": the name may hold spaces, so parse after the last ')'.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                list.Add(new ProcessInfo(pid, int.Parse(fields[1], CultureInfo.InvariantCulture), args));
            }
            catch (IOException)
            {
                // the process ended while we looked
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return list;
    }

    /// <summary>A field of <c>/proc/pid/status</c> in MiB (VmRSS: resident now; VmHWM: peak resident).</summary>
    public static double? StatusMiB(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    return kb / 1024.0;
                }
            }
        }
        catch (IOException)
        {
        }
        return null;
    }
}

/// <summary>
/// Samples the services' resident memory every 200 ms for the whole run and keeps the peak per
/// service, overall and per phase (scenario), so a report can say which load drove memory up.
/// </summary>
public sealed class RssSampler : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, int> _pids;
    private readonly Dictionary<(string Service, string Phase), double> _peaks = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile string _phase = "setup";

    public RssSampler(IReadOnlyDictionary<string, int> pids)
    {
        _pids = pids;
        _loop = Task.Run(LoopAsync);
    }

    public IReadOnlyDictionary<string, int> Pids => _pids;

    public string Phase { set => _phase = value; }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        do
        {
            var phase = _phase;
            foreach (var (service, pid) in _pids)
            {
                if (ServiceProcesses.StatusMiB(pid, "VmRSS") is { } mib)
                {
                    lock (_lock)
                    {
                        foreach (var key in new[] { (service, phase), (service, "*") })
                        {
                            _peaks[key] = Math.Max(_peaks.GetValueOrDefault(key), mib);
                        }
                    }
                }
            }
        }
        while (await timer.WaitForNextTickAsync(_stop.Token));
    }

    /// <summary>Peak RSS in MiB per service during <paramref name="phase"/> ("*": the whole run).</summary>
    public IReadOnlyDictionary<string, double> Peaks(string phase = "*")
    {
        lock (_lock)
        {
            return _peaks.Where(p => p.Key.Phase == phase).ToDictionary(p => p.Key.Service, p => p.Value);
        }
    }

    public IEnumerable<string> Phases()
    {
        lock (_lock)
        {
            return [.. _peaks.Keys.Select(k => k.Phase).Where(p => p != "*").Distinct()];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
