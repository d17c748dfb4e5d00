using System.Diagnostics;

namespace Shop.AppHost.Infrastructure;

/// <summary>
/// PostgreSQL refuses to run as root. When the AppHost runs as root (CI, containers), the server
/// processes are started through <c>setpriv</c> as the unprivileged <c>postgres</c> account, which
/// exec's in place so the orchestrator's stop signal still reaches the server.
/// </summary>
internal static class LocalServerAccount
{
    public const string ServiceUser = "postgres";

    public static bool IsRoot => Environment.UserName == "root" || (OperatingSystem.IsLinux() && GetEffectiveUserId() == 0);

    /// <summary>The command and leading arguments that run <paramref name="program"/> as the service account.</summary>
    public static (string Command, List<string> Args) Wrap(string program, params string[] args)
    {
        if (!IsRoot)
        {
            return (program, [.. args]);
        }
        return ("setpriv", ["--reuid=" + ServiceUser, "--regid=" + ServiceUser, "--init-groups", "--", program, .. args]);
    }

    /// <summary>Hands a directory tree to the service account (a no-op when not root).</summary>
    public static void Own(string path)
    {
        if (!IsRoot)
        {
            return;
        }
        Run("chown", "-R", $"{ServiceUser}:{ServiceUser}", path);
    }

    public static (int ExitCode, string Output) Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static uint GetEffectiveUserId()
    {
        try
        {
            var status = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            var parts = status?.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            return parts is { Length: > 2 } && uint.TryParse(parts[2], out var euid) ? euid : uint.MaxValue;
        }
        catch (IOException)
        {
            return uint.MaxValue;
        }
    }
}
