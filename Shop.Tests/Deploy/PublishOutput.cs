using Xunit;
using System.Diagnostics;
using k8s.Models;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace Shop.Tests.Deploy;

/// <summary>
/// Runs the real AppHost's publish steps once per test run (as <c>./shop publish</c> does, a
/// separate process) into temporary directories, plus Aspire's own manifest as an independent
/// list of the app model's resources.
/// </summary>
public sealed class PublishOutput : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "shop-deploy-test-" + Guid.NewGuid().ToString("N"));
    public string ComposeDirectory => Path.Combine(Root, "compose");
    public string KubernetesDirectory => Path.Combine(Root, "k8s");
    /// <summary>Kubernetes output published with the Ingress options and an image tag set (<see cref="KubernetesOptions"/>).</summary>
    public string KubernetesOptionsDirectory => Path.Combine(Root, "k8s-options");
    public const string ImageTag = "1.4.0";
    public static readonly string[] KubernetesOptions =
        ["--Shop:Publish:IngressHost=shop.acme.test", "--Shop:Publish:TlsSecret=acme-shop-tls", "--Shop:Publish:IngressClass=nginx", $"--Shop:Publish:Tag={ImageTag}"];
    public string ManifestPath => Path.Combine(Root, "manifest.json");
    /// <summary>Compose output published with a TLS certificate and the locally built base images (<see cref="VariantOptions"/>).</summary>
    public string ComposeVariantDirectory => Path.Combine(Root, "compose-variant");
    public const string TlsCertificate = "/etc/shop/tls/shop.crt";
    public const string TlsKey = "/etc/shop/tls/shop.key";
    public static readonly string[] VariantOptions =
        [$"--Shop:Publish:TlsCertificate={TlsCertificate}", $"--Shop:Publish:TlsKey={TlsKey}", "--Shop:Publish:HttpsPort=443", "--Shop:Publish:BaseImages=local"];

    public static string RepositoryRoot { get; } = FindRepositoryRoot();
    public static string AppHostProject => Path.Combine(RepositoryRoot, "Shop.AppHost", "Shop.AppHost.csproj");

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        await Task.WhenAll(
            RunAppHostAsync("--operation", "publish", "--step", "publish-compose", "--output-path", ComposeDirectory),
            RunAppHostAsync("--operation", "publish", "--step", "publish-k8s", "--output-path", KubernetesDirectory),
            RunAppHostAsync(["--operation", "publish", "--step", "publish-k8s", "--output-path", KubernetesOptionsDirectory, .. KubernetesOptions]),
            RunAppHostAsync("--publisher", "manifest", "--output-path", ManifestPath),
            RunAppHostAsync(["--operation", "publish", "--step", "publish-compose", "--output-path", ComposeVariantDirectory, .. VariantOptions]));
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>The configuration the test run was built in; the AppHost was built in the same one (project reference).</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    public static Task RunAppHostAsync(params string[] args) =>
        RunAsync("dotnet", ["run", "--no-build", "--no-launch-profile", "-c", Configuration, "--project", AppHostProject, "--", .. args]);

    /// <summary>Runs a command in the repository root; fails with its output unless it exits 0 within two minutes.</summary>
    public static async Task RunAsync(string fileName, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        var command = $"{fileName} {string.Join(' ', args)}";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish in 2 minutes:\n{await stdout}");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shop.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Shop.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary><c>kubectl kustomize DIR</c>: what <c>kubectl apply -k DIR</c> would send, rendered offline (no cluster needed).</summary>
    public static (int ExitCode, string Output, string Error) Kustomize(string directory)
    {
        var info = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("kustomize");
        info.ArgumentList.Add(directory);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("kubectl is needed to render the Kubernetes output (the client only, no cluster): " + e.Message, e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"kubectl kustomize {directory} did not finish in a minute");
            }
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    private readonly Dictionary<string, string> _rendered = [];

    /// <summary>The rendered output of a published directory (kustomize must succeed).</summary>
    public string Rendered(string directory)
    {
        lock (_rendered)
        {
            if (!_rendered.TryGetValue(directory, out var yaml))
            {
                var (exitCode, output, error) = Kustomize(directory);
                if (exitCode != 0)
                {
                    throw new InvalidOperationException($"kubectl kustomize {directory} failed ({exitCode}): {error}");
                }
                _rendered[directory] = yaml = output;
            }
            return yaml;
        }
    }

    /// <summary>Copies a published directory (secrets/ and the files services mount included) to a new temporary one.</summary>
    public string CopyOf(string directory)
    {
        var copy = Path.Combine(Root, "copy-" + Guid.NewGuid().ToString("N"));
        foreach (var file in Directory.GetFiles(directory, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(directory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    // ---- Parsing helpers shared by the tests ----

    /// <summary>Runs a command to its end and returns its exit code and output (a failure is the caller's to judge).</summary>
    public static (int ExitCode, string Output, string Error) Capture(string command, string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo(command) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    /// <summary>A publish that must fail, as <c>./shop publish</c> runs it: its exit code and everything it printed.</summary>
    public static Task<(int ExitCode, string Output, string Error)> PublishAsync(string target, string directory, params string[] args) =>
        Task.Run(() => Capture("dotnet", RepositoryRoot, null,
            ["run", "--no-build", "--no-launch-profile", "-c", Configuration, "--project", AppHostProject, "--",
             "--operation", "publish", "--step", $"publish-{target}", "--output-path", directory, .. args]));

    /// <summary>
    /// The services of a compose output as <c>docker-compose config</c> renders them with its <c>.env</c> (Debian's
    /// docker-compose 1.29); null when docker-compose is not installed.
    /// </summary>
    public static Dictionary<object, object>? ComposeConfig(string directory)
    {
        if (!(System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, "docker-compose"))))
        {
            return null;
        }
        // Debian's compose 1.29 predates the top-level name: key; users keep it, the test drops it.
        var v1 = Path.Combine(directory, "docker-compose.v1.yaml");
        File.WriteAllLines(v1, File.ReadAllLines(Path.Combine(directory, "docker-compose.yaml")).Where(l => !l.StartsWith("name:", StringComparison.Ordinal)));
        var (exitCode, rendered, error) = Capture("docker-compose", directory, null, "-p", "shop", "-f", v1, "config");
        Assert.True(exitCode == 0, error);
        // compose's rendered file is a compose file itself: a literal $ is $$ in it.
        return (Dictionary<object, object>)new DeserializerBuilder().Build()
            .Deserialize<Dictionary<string, object>>(rendered.Replace("$$", "$", StringComparison.Ordinal))["services"];
    }

    /// <summary>A rendered compose service's environment.</summary>
    public static Dictionary<string, string> ComposeEnvironment(object service) =>
        ((Dictionary<object, object>)((Dictionary<object, object>)service)["environment"]).ToDictionary(kv => (string)kv.Key, kv => (string)kv.Value);

    /// <summary>A Secret's value as text: an optional parameter left unset is an empty value, which YAML reads back as null.</summary>
    public static string SecretText(byte[]? value) => value is null ? "" : System.Text.Encoding.UTF8.GetString(value);

    /// <summary>
    /// A container's environment variable as the pod gets it: its <c>$(VAR)</c> references to the variables the
    /// rendered Secrets fill, substituted (as the kubelet does, once).
    /// </summary>
    public static string PodValue(V1Container container, string name, IEnumerable<V1Secret> secrets)
    {
        var data = secrets.ToDictionary(s => s.Metadata.Name, s => s.Data.ToDictionary(kv => kv.Key, kv => SecretText(kv.Value)));
        var value = container.Env.Single(e => e.Name == name).Value;
        foreach (var variable in container.Env.Where(e => e.ValueFrom?.SecretKeyRef is not null))
        {
            value = value.Replace($"$({variable.Name})", data[variable.ValueFrom.SecretKeyRef.Name][variable.ValueFrom.SecretKeyRef.Key], StringComparison.Ordinal);
        }
        return value;
    }


    public static YamlMappingNode LoadYaml(string path)
    {
        var stream = new YamlStream();
        using var reader = File.OpenText(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    public static Dictionary<string, object> LoadMap(string path) =>
        new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(File.ReadAllText(path));

    /// <summary>
    /// The Secrets a pod's containers read (environment and volumes; not its image pull Secrets, which kubelet
    /// reads itself): kubelet fetches each of them whole for the pod, and a new name rolls the pod.
    /// </summary>
    public static IEnumerable<string> SecretNames(V1PodSpec pod) =>
        pod.Containers.Concat(pod.InitContainers ?? [])
            .SelectMany(c => (c.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef?.Name).Concat((c.EnvFrom ?? []).Select(e => e.SecretRef?.Name)))
            .Concat((pod.Volumes ?? []).Select(v => v.Secret?.SecretName))
            .OfType<string>()
            .Distinct();

    /// <summary>Every secret value of a Kubernetes output: its Secrets' files (<c>secrets/&lt;name&gt;.env</c>), read together.</summary>
    public static Dictionary<string, string> SecretValues(string directory) =>
        Directory.GetFiles(Path.Combine(directory, "secrets"), "*.env").SelectMany(LoadEnvFile).ToDictionary();

    public static Dictionary<string, string> LoadEnvFile(string path) =>
        File.ReadAllLines(path)
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('\''));
}

[CollectionDefinition(Name)]
public sealed class PublishCollection : ICollectionFixture<PublishOutput>
{
    public const string Name = "Deploy publish output";
}
