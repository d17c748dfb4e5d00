using System.Diagnostics;
using Xunit;

namespace Shop.Tests.Deploy;

/// <summary>
/// The compose deployment started for real and driven end to end (<c>./shop deploy-test</c>:
/// scripts/deploy-test/deploy-test.sh). Runs with <c>./shop test --deploy</c>, which sets the private
/// container platform up first and runs this test in a tier of its own (CI does); skipped, saying so, otherwise.
/// </summary>
public sealed class DeploymentTests(ITestOutputHelper log)
{
    [Fact]
    public async Task Compose_deployment_runs_the_whole_journey_through_its_gateway()
    {
        if (Environment.GetEnvironmentVariable("SHOP_DEPLOY_TEST") != "1")
        {
            Assert.Skip("The compose deployment test runs with `./shop test --deploy` (it sets up a private Docker engine and builds images: "
                + "minutes on a first run, see docs/deploy.md), as CI does; plain `./shop test` leaves it out.");
        }
        var root = PublishOutput.RepositoryRoot;
        var platform = Path.Combine(root, "scripts", "container-platform", "platform.sh");
        if (Run(platform, "present").ExitCode != 0)
        {
            Assert.Skip("The private container platform is not set up on this machine (Docker engine, compose, local registry and base images); "
                + "`./shop test --deploy` or `./shop platform setup` sets it up, see docs/deploy.md.");
        }

        var info = new ProcessStartInfo(Path.Combine(root, "scripts", "deploy-test", "deploy-test.sh"))
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var lines = new List<string>();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Killing the script runs no trap; its deployment is removed by the next run's `down`.
            process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();
        var transcript = string.Join('\n', lines);
        log.WriteLine(transcript);
        Assert.True(process.ExitCode == 0, transcript);
        Assert.StartsWith("DEPLOY TEST PASSED", lines.Last(l => l.Length > 0));
    }

    private static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
