using System.Diagnostics;
using Xunit;

namespace Shop.Tests.Infrastructure;

/// <summary>
/// A program a test runs: bounded in time (killed with its children when it overruns), its output captured,
/// and a failure message that names the command, its exit code and what it printed.
/// </summary>
public static class ChildProcess
{
    public sealed record Result(string Command, int ExitCode, string Stdout, string Stderr)
    {
        /// <summary>Standard output, then standard error.</summary>
        public string Output => Stdout + Stderr;

        public override string ToString() => $"`{Command}` exited {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";

        public Result AssertSucceeded()
        {
            Assert.True(ExitCode == 0, ToString());
            return this;
        }
    }

    /// <param name="environment">Variables to set; a null value removes the variable the test process has.</param>
    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }
        var command = string.Join(' ', [fileName, .. info.ArgumentList]);
        var limit = timeout ?? TimeSpan.FromMinutes(1);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"`{command}` did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"`{command}` did not finish in {limit.TotalSeconds:0} s\n--- stdout\n{await stdout}\n--- stderr\n{await stderr}");
        }
        return new Result(command, process.ExitCode, await stdout, await stderr);
    }
}
