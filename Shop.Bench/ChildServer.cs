using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Shop.Bench;

/// <summary>
/// A Kestrel app the bench runs as a child process of its own (this executable with a <c>--serve-…</c>
/// argument), with Server GC like the services, so that it competes with the load generator for the CPUs as
/// the services do. The child prints its address when it listens and stops when its stdin closes.
/// </summary>
public sealed class ChildServer : IAsyncDisposable
{
    private const string ListeningLine = "LISTENING ";

    private readonly Process _process;

    private ChildServer(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public int Pid => _process.Id;

    /// <summary>The child's side: run <paramref name="app"/> on a free loopback port until the parent lets go.</summary>
    public static async Task ServeAsync(WebApplication app)
    {
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Console.WriteLine(ListeningLine + address);
        await Console.In.ReadLineAsync(); // the parent closes stdin to stop us
        await app.StopAsync();
    }

    /// <summary>
    /// What makes this executable, started as a server, run like the services: Server GC (the load
    /// generator uses Workstation GC) and the services' thread-pool spin limit (Directory.Build.props,
    /// written in hex as the runtime reads <c>DOTNET_</c> numbers), where Shop.Bench.csproj sets 0 for the
    /// load generator. The variables win over the executable's runtimeconfig.json.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ServerEnvironment = new Dictionary<string, string>
    {
        ["DOTNET_gcServer"] = "1",
        [LoadRunner.SpinLimitVariable] = "0x" + ServiceSpinLimit().ToString("x", CultureInfo.InvariantCulture),
    };

    /// <summary>The services' spin limit, which the build stamps into this assembly.</summary>
    private static int ServiceSpinLimit() => int.Parse(
        typeof(ChildServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ShopServiceSpinLimit").Value!,
        CultureInfo.InvariantCulture);

    /// <summary>How to run this executable again: itself, or <c>dotnet Shop.Bench.dll</c> when run that way.</summary>
    public static (string Path, string[] LeadingArguments) OwnCommand()
    {
        var path = Environment.ProcessPath!;
        return path.EndsWith("/Shop.Bench", StringComparison.Ordinal) ? (path, []) : (path, [typeof(ChildServer).Assembly.Location]);
    }

    public static async Task<ChildServer> StartAsync(string name, IEnumerable<string> arguments, CancellationToken ct)
    {
        var (path, leading) = OwnCommand();
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in leading.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (variable, value) in ServerEnvironment)
        {
            start.Environment[variable] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start the {name}.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith(ListeningLine, StringComparison.Ordinal))
            {
                return new ChildServer(process, new Uri(line[ListeningLine.Length..]));
            }
        }
        throw new InvalidOperationException($"The {name} exited before listening.");
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        _process.Dispose();
    }
}
