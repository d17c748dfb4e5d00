using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Shop.Bench;

/// <summary>
/// The reference reverse proxy for scenario 1: Debian's nginx in front of the same Inventory, with a
/// keep-alive upstream pool, as the seed design's gateway was. The YARP gateway's added cost is judged
/// against this one's, measured on the same machine in the same run.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    public static readonly string[] Binaries = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"];

    private readonly Process _process;
    private readonly string _prefix;

    private NginxProxy(Process process, string prefix, Uri address)
    {
        _process = process;
        _prefix = prefix;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>The master process; the workers are its children.</summary>
    public int Pid => _process.Id;

    public static string? FindBinary() => Binaries.FirstOrDefault(File.Exists);

    /// <summary>
    /// The configuration: as many workers as cores (nginx's "auto", like Kestrel's thread pool), no access
    /// log (the gateway writes none at Information either), HTTP/1.1 to the upstream with idle connections
    /// kept, and the forwarding headers the YARP gateway sets too.
    /// </summary>
    internal static string Configuration(string prefix, int port, Uri upstream) =>
        Configuration(prefix, port.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{upstream.Host}:{upstream.Port}");

    /// <param name="upstream">Inventory's host:port.</param>
    internal static string Configuration(string prefix, string port, string upstream) => $$"""
        daemon off;
        master_process on;
        worker_processes auto;
        pid {{prefix}}/nginx.pid;
        error_log {{prefix}}/error.log warn;
        events { worker_connections 4096; }
        http {
            access_log off;
            client_body_temp_path {{prefix}}/client_body;
            proxy_temp_path {{prefix}}/proxy;
            fastcgi_temp_path {{prefix}}/fastcgi;
            uwsgi_temp_path {{prefix}}/uwsgi;
            scgi_temp_path {{prefix}}/scgi;
            upstream inventory {
                server {{upstream}};
                keepalive 128;
            }
            server {
                listen 127.0.0.1:{{port}};
                location / {
                    proxy_pass http://inventory;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_set_header Host $host;
                    proxy_set_header X-Forwarded-For $remote_addr;
                    proxy_set_header X-Forwarded-Proto $scheme;
                }
            }
        }
        """;

    public static async Task<NginxProxy> StartAsync(string binary, Uri upstream, CancellationToken ct)
    {
        LoadRunner.EnsureLoopback(upstream);
        var prefix = Directory.CreateTempSubdirectory("shop-bench-nginx-").FullName;
        var port = FreePort();
        var config = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(config, Configuration(prefix, port, upstream), ct);
        var start = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var arg in new[] { "-p", prefix, "-c", config })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start nginx.");
        var address = new Uri($"http://127.0.0.1:{port}");
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited ({process.ExitCode}): {await process.StandardError.ReadToEndAsync(ct)}");
            }
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port, ct);
                return new NginxProxy(process, prefix, address);
            }
            catch (SocketException)
            {
                await Task.Delay(50, ct);
            }
        }
        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException("nginx did not listen within 10 s.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        DeletePrefix(_prefix);
    }

    /// <summary>Removes nginx's configuration, logs and temporary files once it has stopped.</summary>
    public static void DeletePrefix(string prefix)
    {
        try
        {
            Directory.Delete(prefix, recursive: true);
        }
        catch (IOException)
        {
            // A worker still closing its files: the temp folder is left behind, which is harmless.
        }
    }
}
