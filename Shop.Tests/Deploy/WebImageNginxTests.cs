using System.Diagnostics;
using System.Text.RegularExpressions;
using Shop.ServiceDefaults;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests.Deploy;

/// <summary>
/// The web image's nginx takes every request the gateway forwards to it, as the services do (<see cref="RequestLimits"/>).
/// At nginx's default buffers (4 × 8k: a request line or one header line over 8 KiB) a request the gateway had taken got
/// nginx's bare 414 or 400 page from behind it: a shopper's cookies from other apps on the shop's host, a long query.
/// Runs Debian's nginx (what <c>./shop test</c> installs) with the image's own configuration file, the one the Dockerfile
/// copies, with only what places it on this machine changed: the port, the files' folder and the writable folder.
/// </summary>
public sealed partial class WebImageNginxTests
{
    private static readonly string WebDirectory = Path.Combine(PublishOutput.RepositoryRoot, "Shop.Web");

    [Theory]
    [InlineData("/", "request line")]
    [InlineData("/", "header line")]
    [InlineData("/", "both")]
    [InlineData("/", "fields")]
    [InlineData("/assets/index.js", "both")]
    [InlineData("/account", "long path")]
    public async Task The_web_images_nginx_takes_a_request_at_the_limits_the_gateway_forwards(string path, string atLimit)
    {
        await using var nginx = await ImageNginx.StartAsync();

        string Line(string target) => $"GET {target} HTTP/1.1\r\n";
        var target = path;
        if (atLimit is "request line" or "both")
        {
            target += "?q=";
            target += new string('q', RequestLimits.ServiceMaxRequestLineBytes - Line(target).Length);
        }
        else if (atLimit == "long path")
        {
            // A client-side route's path (no file is named so): still the SPA's page.
            target += "/" + new string('p', RequestLimits.ServiceMaxRequestLineBytes - Line(target + "/").Length);
        }
        var headers = $"Host: shop.example\r\nConnection: close\r\n";
        if (atLimit is "header line" or "both")
        {
            // One line holding all the header bytes a service takes: the gateway measures no line on its own.
            const string cookie = "Cookie: other_app=\r\n";
            headers += $"Cookie: other_app={new string('c', RequestLimits.ServiceMaxHeaderBytes - headers.Length - cookie.Length)}\r\n";
            Assert.Equal(RequestLimits.ServiceMaxHeaderBytes, headers.Length);
        }
        else if (atLimit == "fields")
        {
            var fields = RequestLimits.ServiceMaxHeaderCount - 2;
            var each = (RequestLimits.ServiceMaxHeaderBytes - headers.Length) / fields;
            headers += string.Concat(Enumerable.Range(0, fields).Select(i => $"X-Filler-{i:000}: {new string('f', each - $"X-Filler-{i:000}: \r\n".Length)}\r\n"));
        }
        Assert.True(Line(target).Length <= RequestLimits.ServiceMaxRequestLineBytes && headers.Length <= RequestLimits.ServiceMaxHeaderBytes);

        var answer = await RawHttp.ExchangeAsync(nginx.Address, $"{Line(target)}{headers}\r\n");

        var statusLine = answer[..Math.Max(0, answer.IndexOf('\r'))];
        Assert.True(statusLine.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) && answer.Contains(path.StartsWith("/assets/") ? ImageNginx.Script : ImageNginx.Page, StringComparison.Ordinal),
            $"GET {path} ({atLimit} at the limits the gateway forwards: a request line of {Line(target).Length} bytes, {headers.Length} bytes of headers) was refused by the web image's nginx:\n{answer[..Math.Min(answer.Length, 600)]}\nnginx's error log:\n{nginx.Errors}");
    }

    /// <summary>Debian's nginx with the web image's configuration, serving a folder with a page and a script.</summary>
    private sealed partial class ImageNginx : IAsyncDisposable
    {
        public const string Page = "<div id=\"root\"></div>", Script = "console.log(\"shop\");";

        private static readonly string[] Binaries = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"];

        private readonly Process _process;
        private readonly string _prefix;
        private readonly System.Text.StringBuilder _errors = new();

        private ImageNginx(Process process, string prefix, Uri address)
        {
            (_process, _prefix, Address) = (process, prefix, address);
            // The access log goes to stdout: read, or nginx would block on a full pipe.
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) => { lock (_errors) { _errors.AppendLine(e.Data); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Uri Address { get; }

        /// <summary>What nginx wrote to its error log (stderr) so far.</summary>
        public string Errors
        {
            get { lock (_errors) { return _errors.ToString(); } }
        }

        public static async Task<ImageNginx> StartAsync()
        {
            var binary = Binaries.FirstOrDefault(File.Exists);
            Assert.True(binary is not null, $"nginx is not installed (none of {string.Join(", ", Binaries)}): ./shop test installs it (apt install nginx-light).");

            var prefix = Directory.CreateTempSubdirectory("shop-web-nginx-").FullName;
            var root = Directory.CreateDirectory(Path.Combine(prefix, "html")).FullName;
            File.WriteAllText(Path.Combine(root, "index.html"), $"<!doctype html><title>Shop</title>{Page}");
            File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.Combine(root, "assets")).FullName, "index.js"), Script);
            // Started as root (as here), nginx serves from worker processes that run as nobody: they must read the files.
            const UnixFileMode everyoneReads = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            foreach (var directory in new[] { prefix, root, Path.Combine(root, "assets") })
            {
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(directory, everyoneReads);
                }
            }

            var port = LoopbackPort.Free();
            var config = Path.Combine(prefix, "nginx.conf");
            File.WriteAllText(config, Render(port, root, prefix));
            var start = new ProcessStartInfo(binary!)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            // As the image's CMD, with the error log at start on stderr rather than Debian's /var/log/nginx.
            foreach (var argument in new[] { "-p", prefix, "-c", config, "-e", "stderr", "-g", "daemon off;" })
            {
                start.ArgumentList.Add(argument);
            }
            var process = Process.Start(start)!;
            var nginx = new ImageNginx(process, prefix, new Uri($"http://127.0.0.1:{port}/"));

            var health = await Eventually.ReadUntilAsync(async () =>
            {
                try
                {
                    return await RawHttp.ExchangeAsync(nginx.Address, "GET /healthz HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n");
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
                {
                    return e.Message;
                }
            }, answer => answer.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) || process.HasExited, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
            if (!health.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
            {
                await nginx.DisposeAsync();
                Assert.Fail($"nginx with the web image's configuration did not answer /healthz: {health}\n{nginx.Errors}");
            }
            return nginx;
        }

        /// <summary>
        /// The file the Dockerfile copies to /etc/nginx/nginx.conf, placed on this machine: its port on 127.0.0.1 (no IPv6
        /// listener), the files in <paramref name="root"/>, the pid and temporary files (the image's /tmp) in
        /// <paramref name="prefix"/>. Every other line, the limits among them, as the image has it.
        /// </summary>
        private static string Render(int port, string root, string prefix)
        {
            var dockerfile = File.ReadAllText(Path.Combine(WebDirectory, "Dockerfile"));
            var copied = ConfigCopy().Match(dockerfile);
            Assert.True(copied.Success, "Shop.Web/Dockerfile no longer copies a file to /etc/nginx/nginx.conf: update how this test finds the image's configuration.");
            var served = HtmlCopy().Match(dockerfile);
            Assert.True(served.Success, "Shop.Web/Dockerfile no longer copies the build to a folder: update how this test finds the image's files.");

            var config = File.ReadAllText(Path.Combine(WebDirectory, copied.Groups["source"].Value));
            // /tmp first: the folders put in its place are under it.
            foreach (var (from, to) in new[]
            {
                (" /tmp/", $" {prefix}/"),
                ("listen 8080;", $"listen 127.0.0.1:{port};"),
                ("listen [::]:8080;", ""),
                ($"root {served.Groups["folder"].Value};", $"root {root};"),
            })
            {
                Assert.True(config.Contains(from, StringComparison.Ordinal), $"The web image's nginx.conf no longer says `{from}`: update how this test places it on this machine.");
                config = config.Replace(from, to, StringComparison.Ordinal);
            }
            return config;
        }

        [GeneratedRegex(@"^COPY (?<source>\S+) /etc/nginx/nginx\.conf$", RegexOptions.Multiline)]
        private static partial Regex ConfigCopy();

        [GeneratedRegex(@"^COPY --from=build /app/dist (?<folder>\S+)$", RegexOptions.Multiline)]
        private static partial Regex HtmlCopy();

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                // The workers too: killed alone, the master leaves them serving.
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
            Directory.Delete(_prefix, recursive: true);
        }
    }
}
