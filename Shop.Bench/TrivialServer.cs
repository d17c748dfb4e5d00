using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Shop.Bench;

/// <summary>
/// Scenario 4's HTTP ceiling: a Kestrel app with one endpoint returning a fixed JSON document about
/// the size of an inventory item, in its own process (Server GC, like the services) so that it
/// competes with the load generator for the CPUs as the services do.
/// </summary>
public sealed class TrivialServer : IAsyncDisposable
{
    public const string Argument = "--serve-trivial";
    public const string Path = "/ping";

    private const string Body = """{"id":1,"sku":"TRIVIAL-0001","name":"A trivial response of about the size of an item","price":9.99,"qty":100000000,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}""";

    private readonly Process _process;

    private TrivialServer(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public int Pid => _process.Id;

    /// <summary>The child process's entry point (Program.cs dispatches <see cref="Argument"/> here).</summary>
    public static async Task ServeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var body = System.Text.Encoding.UTF8.GetBytes(Body);
        app.MapGet(Path, (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body).AsTask();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Console.WriteLine("LISTENING " + address);
        await Console.In.ReadLineAsync(); // the parent closes stdin to stop us
        await app.StopAsync();
    }

    public static async Task<TrivialServer> StartAsync(CancellationToken ct)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (!Environment.ProcessPath!.EndsWith("/Shop.Bench", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(TrivialServer).Assembly.Location); // running as "dotnet Shop.Bench.dll"
        }
        start.ArgumentList.Add(Argument);
        start.Environment["DOTNET_gcServer"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the trivial server.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("LISTENING ", StringComparison.Ordinal))
            {
                return new TrivialServer(process, new Uri(line["LISTENING ".Length..]));
            }
        }
        throw new InvalidOperationException("The trivial server exited before listening.");
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
