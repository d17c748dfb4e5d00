using System.Globalization;

namespace Shop.Bench;

/// <summary>
/// CPU time per process group from <c>/proc</c> (Linux only): each service process, and the PostgreSQL
/// server and Redis the stack started (found by their port, so other stacks on the machine are not
/// counted). Read before and after a series, it gives the CPU each part spent per request — a figure
/// that, unlike throughput, barely moves when the machine is shared.
/// </summary>
public sealed class CpuMeter
{
    private static readonly double TicksPerSecond = 100; // USER_HZ; 100 on every Linux this runs on
    private readonly IReadOnlyDictionary<string, Func<IEnumerable<int>>> _groups;

    private CpuMeter(IReadOnlyDictionary<string, Func<IEnumerable<int>>> groups) => _groups = groups;

    /// <param name="services">Service name → process id.</param>
    /// <param name="serverPorts">The stack's servers by port: a name ending in "-db" is a PostgreSQL server
    /// (its postmaster and every backend below it), "redis" the Redis server.</param>
    public static CpuMeter For(IReadOnlyDictionary<string, int> services, IReadOnlyDictionary<string, int> serverPorts)
    {
        var groups = services.ToDictionary(s => s.Key, s => (Func<IEnumerable<int>>)(() => [s.Value]));
        foreach (var (name, port) in serverPorts)
        {
            var text = port.ToString(CultureInfo.InvariantCulture);
            if (name.EndsWith("-db", StringComparison.Ordinal) && FindByArgs("postgres", "-p", text) is { } postmaster)
            {
                // Backends come and go; an ended one's time is in the postmaster's cutime/cstime (read below).
                groups[name] = () => [postmaster, .. ChildrenOf(postmaster)];
            }
            else if (name == "redis" && FindByArgs("redis-server", null, text) is { } redis)
            {
                groups[name] = () => [redis];
            }
        }
        return new CpuMeter(groups);
    }

    public IEnumerable<string> Groups => _groups.Keys;

    /// <summary>CPU seconds used so far, per group.</summary>
    public Dictionary<string, double> Read() => _groups.ToDictionary(g => g.Key, g => g.Value().Sum(CpuSeconds));

    /// <summary>Milliseconds of CPU per request per group between two readings.</summary>
    public static Dictionary<string, double> PerRequestMs(Dictionary<string, double> before, Dictionary<string, double> after, long requests) =>
        requests == 0 ? [] : after.ToDictionary(a => a.Key, a => Math.Round((a.Value - before.GetValueOrDefault(a.Key)) * 1000 / requests, 3));

    private static double CpuSeconds(int pid)
    {
        try
        {
            return StatCpuSeconds(File.ReadAllText($"/proc/{pid}/stat"), withChildren: true);
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            return 0; // ended while we looked
        }
    }

    /// <summary>
    /// CPU seconds in a <c>/proc/…/stat</c> line (a process's or, under <c>task/</c>, one thread's): utime + stime,
    /// plus the ended children's cutime + cstime when <paramref name="withChildren"/>.
    /// </summary>
    public static double StatCpuSeconds(string stat, bool withChildren)
    {
        // "pid (comm) state ppid …": fields after the last ')' start at field 3 (state); comm may hold spaces.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime, stime, cutime, cstime are fields 14–17 of the whole line, 11–14 after ')'.
        long Field(int n) => long.Parse(fields[n - 3], CultureInfo.InvariantCulture);
        return (Field(14) + Field(15) + (withChildren ? Field(16) + Field(17) : 0)) / TicksPerSecond;
    }

    private static int? FindByArgs(string program, string? flag, string port)
    {
        foreach (var p in ServiceProcesses.Snapshot())
        {
            var args = p.Args;
            if (args.Length == 0 || !Path.GetFileName(args[0]).StartsWith(program, StringComparison.Ordinal))
            {
                continue;
            }
            var joined = string.Join(' ', args);
            if (flag is not null ? Array.IndexOf(args, flag) is var i and >= 0 && i + 1 < args.Length && args[i + 1] == port
                : joined.Contains(":" + port, StringComparison.Ordinal) || joined.Contains(" " + port, StringComparison.Ordinal))
            {
                return p.Pid;
            }
        }
        return null;
    }

    private static IEnumerable<int> ChildrenOf(int parent) =>
        ServiceProcesses.Snapshot().Where(p => p.ParentPid == parent).Select(p => p.Pid);
}
