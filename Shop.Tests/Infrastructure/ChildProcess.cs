using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace Shop.Tests.Infrastructure;

/// <summary>
/// A program a test runs: bounded in time (killed with its children when it overruns), its output captured,
/// and a failure message that names the command, its exit code and what it printed.
/// </summary>
public static partial class ChildProcess
{
    /// <param name="Stopped">The run was ended, the process killed, because its output showed what <c>stopWhen</c> waited for.</param>
    public sealed record Result(string Command, int ExitCode, string Stdout, string Stderr, bool Stopped = false)
    {
        /// <summary>Standard output, then standard error.</summary>
        public string Output => Stdout + Stderr;

        public override string ToString() =>
            $"`{Command}` {(Stopped ? "was stopped when its output showed what the test waited for" : $"exited {ExitCode}")}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";

        public Result AssertSucceeded()
        {
            Assert.True(ExitCode == 0, ToString());
            return this;
        }
    }

    /// <param name="environment">Variables to set; a null value removes the variable the test process has.</param>
    /// <param name="timeout">A bound for a process that hangs; one minute by default.</param>
    /// <param name="stopWhen">
    /// Asked of the output so far (standard output, then standard error) each time more arrives: true ends the run at once,
    /// killing the process, with <see cref="Result.Stopped"/> set. For a process that would otherwise run until killed.
    /// </param>
    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, Func<string, bool>? stopWhen = null)
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
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Arrived()
        {
            if (stopWhen is not null && stopWhen(Snapshot(stdout) + Snapshot(stderr)))
            {
                seen.TrySetResult();
            }
        }
        var reading = Task.WhenAll(CopyAsync(process.StandardOutput, stdout, Arrived), CopyAsync(process.StandardError, stderr, Arrived));
        using var cancel = new CancellationTokenSource(limit);
        var exited = process.WaitForExitAsync(cancel.Token);
        await Task.WhenAny(exited, seen.Task);
        var stopped = seen.Task.IsCompleted && !process.HasExited;
        if (stopped || exited.IsCanceled)
        {
            process.Kill(entireProcessTree: true);
        }
        await process.WaitForExitAsync();
        await reading;
        if (!stopped && exited.IsCanceled)
        {
            throw new TimeoutException($"`{command}` did not finish in {limit.TotalSeconds:0} s\n--- stdout\n{Readable(stdout)}\n--- stderr\n{Readable(stderr)}");
        }
        return new Result(command, process.ExitCode, Readable(stdout), Readable(stderr), stopped);
    }

    private static async Task CopyAsync(StreamReader reader, StringBuilder text, Action arrived)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (text)
            {
                text.Append(buffer, 0, read);
            }
            arrived();
        }
    }

    private static string Snapshot(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    /// <summary>
    /// The output as a person reads it, and as a test report (XML 1.0) can hold it: colour codes (ANSI escape sequences)
    /// removed, any other control character but tab and line breaks written as <c>\uXXXX</c>. A service's output can hold
    /// them (StackExchange.Redis logs its ECHO reply, random bytes); one in a failure message left dotnet.trx empty.
    /// </summary>
    private static string Readable(StringBuilder output)
    {
        var text = AnsiEscape().Replace(Snapshot(output), "");
        var readable = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                readable.Append(c).Append(text[++i]);
            }
            else if ((char.IsControl(c) && c is not ('\t' or '\n' or '\r')) || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF')
            {
                readable.Append($"\\u{(int)c:X4}");
            }
            else
            {
                readable.Append(c);
            }
        }
        return readable.ToString();
    }

    // CSI sequences (colours, cursor moves) and OSC sequences (titles, links), as ECMA-48 defines them.
    [GeneratedRegex(@"\x1B(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1B]*(\x07|\x1B\\)?)")]
    private static partial Regex AnsiEscape();
}
