using Shop.Tests.Deploy;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// <c>./shop run</c>'s certificate set-up (<c>./shop dev-cert</c>), for a user who has never had a
/// development certificate: a HOME of its own, so the machine's certificate is not touched. Aspire's
/// dashboard warns "No trusted development certificate" unless the ASP.NET Core development certificate
/// is in the user's .NET root store; OpenSSL clients trust it through SSL_CERT_DIR.
/// </summary>
public sealed class DevCertificateTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "shop-dev-cert-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Set_up_creates_and_trusts_the_development_certificate_once()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Elsewhere `dotnet dev-certs https --trust` asks for a password, so ./shop only says how.");
        Directory.CreateDirectory(_home);

        var first = (await RunAsync(Shop, "dev-cert")).AssertSucceeded();
        Assert.Contains("Creating and trusting the ASP.NET Core development certificate", first.Output);

        // What Aspire looks for: a development certificate (the ASP.NET Core HTTPS OID) in CurrentUser\Root.
        var root = Path.Combine(_home, ".dotnet", "corefx", "cryptography", "x509stores", "root");
        var trusted = Assert.Single(Directory.GetFiles(root, "*.pfx"));
        var thumbprint = Path.GetFileNameWithoutExtension(trusted);
        Assert.True(File.Exists(Path.Combine(_home, ".dotnet", "corefx", "cryptography", "x509stores", "my", thumbprint + ".pfx")), "the certificate with its key is not in CurrentUser\\My");
        Assert.True(File.Exists(Path.Combine(_home, ".aspnet", "dev-certs", "trust", $"aspnetcore-localhost-{thumbprint}.pem")), "the certificate is not in the OpenSSL trust folder");
        // And the SDK's own check agrees, for .NET and OpenSSL (with the folder ./shop puts in SSL_CERT_DIR).
        (await RunAsync("dotnet", "dev-certs", "https", "--check", "--trust", "--verbose")).AssertSucceeded();

        // Again: already trusted, nothing to do or say, no second certificate.
        var second = (await RunAsync(Shop, "dev-cert")).AssertSucceeded();
        Assert.Equal("", second.Output.Trim());
        Assert.Single(Directory.GetFiles(root, "*.pfx"));
    }

    private static string Shop => Path.Combine(PublishOutput.RepositoryRoot, "shop");

    /// <summary>Runs as that user; <c>dotnet dev-certs</c> gets the OpenSSL folders <c>./shop run</c> gives the AppHost.</summary>
    private Task<ChildProcess.Result> RunAsync(string fileName, params string[] args)
    {
        var environment = new Dictionary<string, string?> { ["HOME"] = _home, ["DOTNET_NOLOGO"] = "1" };
        if (fileName == "dotnet")
        {
            environment["SSL_CERT_DIR"] = $"{Path.Combine(_home, ".aspnet", "dev-certs", "trust")}:/etc/ssl/certs";
        }
        return ChildProcess.RunAsync(fileName, args, PublishOutput.RepositoryRoot, environment);
    }

    public void Dispose()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }
}
