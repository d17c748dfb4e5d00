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
    /// <summary>The bench's own process: the load generator's clients, and the AppHost it hosts in-process.</summary>
    public const string LoadGenerator = "load generator";

    private readonly Dictionary<string, Func<double>> _groups;

    private CpuMeter(Dictionary<string, Func<double>> groups) => _groups = groups;

    /// <param name="services">Service name → process id.</param>
    /// <param name="serverPorts">The stack's servers by port: a name ending in "-db" is a PostgreSQL server
    /// (its postmaster and every backend below it), "redis" the Redis server.</param>
    public static CpuMeter For(IReadOnlyDictionary<string, int> services, IReadOnlyDictionary<string, int> serverPorts)
    {
        var groups = services.ToDictionary(s => s.Key, s => (Func<double>)(() => CpuSeconds(s.Value, withChildren: true)));
        // Without its ended children: pgbench's runs are its children, and pgbench is not the load generator.
        groups[LoadGenerator] = () => CpuSeconds(Environment.ProcessId, withChildren: false);
        foreach (var (name, port) in serverPorts)
        {
            var text = port.ToString(CultureInfo.InvariantCulture);
            if (name.EndsWith("-db", StringComparison.Ordinal) && FindByArgs("postgres", "-p", text) is { } postmaster)
            {
                // Backends come and go; an ended one's time is in the postmaster's cutime/cstime (read below).
                groups[name] = () => WithChildren(postmaster);
            }
            else if (name == "redis" && FindByArgs("redis-server", null, text) is { } redis)
            {
                groups[name] = () => CpuSeconds(redis, withChildren: true);
            }
        }
        return new CpuMeter(groups);
    }

    public IEnumerable<string> Groups => _groups.Keys;

    /// <summary>Meters a process started later (nginx: its master and the workers below it).</summary>
    public void Add(string name, int pid) => _groups[name] = () => WithChildren(pid);

    /// <summary>CPU seconds used so far, per group.</summary>
    public Dictionary<string, double> Read() => _groups.ToDictionary(g => g.Key, g => g.Value());

    private static double WithChildren(int parent) =>
        CpuSeconds(parent, withChildren: true) + ChildrenOf(parent).Sum(child => CpuSeconds(child, withChildren: true));

    /// <summary>Milliseconds of CPU per request per group between two readings.</summary>
    public static Dictionary<string, double> PerRequestMs(Dictionary<string, double> before, Dictionary<string, double> after, long requests) =>
        requests == 0 ? [] : after.ToDictionary(a => a.Key, a => Math.Round((a.Value - before.GetValueOrDefault(a.Key)) * 1000 / requests, 3));

    private static double CpuSeconds(int pid, bool withChildren)
    {
        try
        {
            return StatCpuSeconds(File.ReadAllText($"/proc/{pid}/stat"), withChildren);
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

/// <summary>
/// The whole machine's CPU from <c>/proc/stat</c>, every core: what the metered processes do not cover (DCP,
/// Vite, kernel threads, other tenants) shows as the difference.
/// </summary>
public readonly record struct MachineCpu(double BusySeconds, double SoftIrqSeconds, double AllSeconds)
{
    public static MachineCpu Read()
    {
        try
        {
            return Parse(File.ReadLines("/proc/stat").First());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return default;
        }
    }

    /// <summary>The "cpu" line: user nice system idle iowait irq softirq steal (guest time is inside user).</summary>
    public static MachineCpu Parse(string cpuLine)
    {
        var f = cpuLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture) / 100.0).ToArray();
        double At(int i) => i < f.Length ? f[i] : 0;
        var busy = At(0) + At(1) + At(2) + At(5) + At(6) + At(7);
        return new MachineCpu(busy, At(6), busy + At(3) + At(4));
    }

    /// <summary>Between two readings: the share of the machine that was busy, and its CPU per request.</summary>
    public static MachinePoint Between(MachineCpu before, MachineCpu after, long requests, double meteredMsPerRequest)
    {
        var all = after.AllSeconds - before.AllSeconds;
        var busyMs = requests == 0 ? 0 : (after.BusySeconds - before.BusySeconds) * 1000 / requests;
        return new MachinePoint(
            BusyShare: all <= 0 ? 0 : Math.Round((after.BusySeconds - before.BusySeconds) / all, 3),
            BusyMsPerRequest: Math.Round(busyMs, 3),
            SoftIrqMsPerRequest: requests == 0 ? 0 : Math.Round((after.SoftIrqSeconds - before.SoftIrqSeconds) * 1000 / requests, 3),
            UnmeteredMsPerRequest: Math.Round(busyMs - meteredMsPerRequest, 3));
    }
}

/// <param name="BusyShare">Busy time ÷ all time of every core during the point (1 = saturated).</param>
/// <param name="BusyMsPerRequest">CPU milliseconds of the whole machine per request.</param>
/// <param name="SoftIrqMsPerRequest">Of it, the kernel's softirq time (loopback packets are processed there). The
/// kernel mostly charges it to the process it interrupted, so it overlaps the processes' figures.</param>
/// <param name="UnmeteredMsPerRequest">Of it, what no metered process accounts for (DCP, Vite, kernel threads).</param>
public sealed record MachinePoint(double BusyShare, double BusyMsPerRequest, double SoftIrqMsPerRequest, double UnmeteredMsPerRequest);
