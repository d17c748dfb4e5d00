using System.Diagnostics;

namespace Shop.AppHost.Infrastructure;

/// <summary>How PostgreSQL and Redis run: as containers, or as local server processes.</summary>
public enum InfrastructureMode
{
    Containers,
    LocalProcesses,
}

public static class InfrastructureModeDetector
{
    /// <summary>Configuration key overriding the automatic choice: <c>auto</c> (default), <c>containers</c> or <c>local</c>.</summary>
    public const string ConfigurationKey = "Shop:Infrastructure";

    /// <summary>
    /// Publish mode always describes containers. In run mode an explicit setting wins; otherwise
    /// containers are used only when a Docker (or Podman) engine answers within a few seconds.
    /// </summary>
    public static InfrastructureMode Detect(IDistributedApplicationBuilder builder, out string reason)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            reason = "publish mode always describes container images";
            return InfrastructureMode.Containers;
        }

        var configured = builder.Configuration[ConfigurationKey]?.Trim().ToLowerInvariant();
        switch (configured)
        {
            case "containers" or "container" or "docker":
                reason = $"{ConfigurationKey}={configured}";
                return InfrastructureMode.Containers;
            case "local" or "process" or "processes":
                reason = $"{ConfigurationKey}={configured}";
                return InfrastructureMode.LocalProcesses;
        }

        if (ContainerRuntimeAnswers("docker") || ContainerRuntimeAnswers("podman"))
        {
            reason = "a container runtime answered";
            return InfrastructureMode.Containers;
        }
        reason = "no container runtime answered (docker/podman info failed)";
        return InfrastructureMode.LocalProcesses;
    }

    private static bool ContainerRuntimeAnswers(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, "info --format {{.ServerVersion}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }
            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return false; // not installed
        }
    }
}
