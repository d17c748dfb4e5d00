using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Shop.Publishing;
using Xunit;

namespace Shop.Tests.Deploy;

/// <summary>
/// Builds the Users service image with the SDK (no Docker daemon) and checks its configuration.
/// Needs the base image from mcr.microsoft.com; skipped, saying so, where that registry is unreachable.
/// </summary>
public sealed class ContainerImageTests
{
    [Fact]
    public void Image_build_arguments_are_daemonless_non_root_and_named_from_configuration()
    {
        var options = new PublishOptions("ghcr.io/acme", "1.2.3", "shop", "1Gi", "100m", "256Mi", "1", "512Mi");
        var args = ContainerImageBuilder.PublishArguments("Shop.Users/Shop.Users.csproj", "users", options, "/tmp/out");
        Assert.Contains("-t:PublishContainer", args);
        Assert.Contains("-p:ContainerArchiveOutputPath=/tmp/out/users.tar.gz", args);
        Assert.Contains("-p:ContainerRepository=ghcr.io/acme/users", args);
        Assert.Contains("-p:ContainerImageTag=1.2.3", args);
        Assert.Contains("-p:ContainerUser=1654", args);
        Assert.Equal("linux-musl-x64", args[args.ToList().IndexOf("-r") + 1]); // Alpine's libc, not the build machine's
        Assert.Contains("-p:PublishReadyToRun=true", args);
        Assert.Equal("ghcr.io/acme/users:1.2.3", options.ImageFor("users"));
    }

    [Fact]
    public async Task Users_image_tarball_runs_as_non_root_on_port_8080()
    {
        if (!await RegistryReachableAsync("mcr.microsoft.com"))
        {
            Assert.Skip("mcr.microsoft.com is unreachable from this machine (no internet), so the SDK cannot fetch the aspnet base image to build the tarball.");
        }
        var output = Path.Combine(Path.GetTempPath(), "shop-image-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new PublishOptions("shop", "test", "shop", "1Gi", "100m", "256Mi", "1", "512Mi");
            var project = Path.Combine(PublishOutput.RepositoryRoot, "Shop.Users", "Shop.Users.csproj");
            var (exitCode, log) = await ContainerImageBuilder.BuildAsync(project, "users", options, output, TestContext.Current.CancellationToken);
            Assert.True(exitCode == 0, log);

            var config = ReadImageConfig(Path.Combine(output, "users.tar.gz")).GetProperty("config");
            Assert.Equal("1654", config.GetProperty("User").GetString());
            Assert.True(config.GetProperty("ExposedPorts").TryGetProperty("8080/tcp", out _));
            Assert.EndsWith("Shop.Users", config.GetProperty("Entrypoint")[0].GetString());
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    private static async Task<bool> RegistryReachableAsync(string host)
    {
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            using var response = await client.GetAsync($"https://{host}/v2/");
            return response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>The image config JSON of a docker/OCI archive: manifest.json → Config blob.</summary>
    private static JsonElement ReadImageConfig(string archive)
    {
        var entries = new Dictionary<string, byte[]>();
        using (var gzip = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is { } data && (entry.Name == "manifest.json" || entry.Name.EndsWith(".json", StringComparison.Ordinal) || entry.Name.StartsWith("blobs/", StringComparison.Ordinal)))
                {
                    using var buffer = new MemoryStream();
                    data.CopyTo(buffer);
                    entries[entry.Name.TrimStart('.', '/')] = buffer.ToArray();
                }
            }
        }
        using var manifest = JsonDocument.Parse(entries["manifest.json"]);
        var configPath = manifest.RootElement[0].GetProperty("Config").GetString()!;
        return JsonDocument.Parse(entries[configPath]).RootElement.Clone();
    }
}
