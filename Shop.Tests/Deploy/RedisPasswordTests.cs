using Xunit;
using System.Diagnostics;
using System.Text;
using k8s;
using k8s.Models;
using StackExchange.Redis;

namespace Shop.Tests.Deploy;

/// <summary>
/// A Redis password an operator chooses (<c>--Parameters:redis-password=…</c>, or an edit of <c>.env</c> /
/// <c>secrets/redis-password.env</c> then a publish) in both outputs, rendered as compose and kustomize render them
/// (no container started): Redis' command line is run by <c>sh</c> as in the container, with a <c>redis-server</c> on
/// PATH that reports the words it was given, and the services' connection string is parsed by StackExchange.Redis.
/// </summary>
public sealed class RedisPasswordTests : IDisposable
{
    /// <summary>A space, a glob, a <c>$</c> and a double quote: each broke Redis' unquoted <c>--requirepass $REDIS_PASSWORD</c>.</summary>
    private const string Password = "pa ss*w$rd\"x";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "shop-redis-password-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Compose_redis_and_its_clients_take_a_password_with_a_space_a_star_a_dollar_and_a_quote()
    {
        if (!(System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, "docker-compose"))))
        {
            Assert.Skip("docker-compose is not installed (./shop platform setup installs Debian's 1.29).");
        }
        var directory = Path.Combine(_root, "compose");
        await PublishOutput.RunAppHostAsync("--operation", "publish", "--step", "publish-compose", "--output-path", directory, $"--Parameters:redis-password={Password}");
        // Debian's compose 1.29 predates the top-level name: key; users keep it, the test drops it.
        var v1 = Path.Combine(directory, "docker-compose.v1.yaml");
        await File.WriteAllLinesAsync(v1, File.ReadAllLines(Path.Combine(directory, "docker-compose.yaml")).Where(l => !l.StartsWith("name:", StringComparison.Ordinal)));
        var (exitCode, rendered, error) = Run("docker-compose", directory, null, "-p", "shop", "-f", v1, "config");
        Assert.True(exitCode == 0, error);
        // compose's rendered file is a compose file itself: a literal $ is $$ in it.
        var services = (Dictionary<object, object>)new YamlDotNet.Serialization.DeserializerBuilder().Build()
            .Deserialize<Dictionary<string, object>>(rendered.Replace("$$", "$", StringComparison.Ordinal))["services"];
        var redis = (Dictionary<object, object>)services["redis"];
        var redisEnvironment = Environment(redis);
        Assert.Equal(Password, redisEnvironment["REDIS_PASSWORD"]);

        Assert.Equal(Password, RequirePass(Strings(redis["entrypoint"]).Concat(Strings(redis["command"])).ToList(), redisEnvironment));
        Assert.Equal(Password, ConfigurationOptions.Parse(Environment((Dictionary<object, object>)services["users"])["ConnectionStrings__redis"]).Password);
    }

    [Fact]
    public async Task Kubernetes_redis_and_its_clients_take_a_password_with_a_space_a_star_a_dollar_and_a_quote()
    {
        var directory = Path.Combine(_root, "k8s");
        await PublishOutput.RunAppHostAsync("--operation", "publish", "--step", "publish-k8s", "--output-path", directory, $"--Parameters:redis-password={Password}");
        var (exitCode, rendered, error) = PublishOutput.Kustomize(directory);
        Assert.True(exitCode == 0, error);
        var objects = KubernetesYaml.LoadAllFromString(rendered);
        var secret = objects.OfType<V1Secret>().Single(s => s.Metadata.Labels["app.kubernetes.io/name"] == "redis-password");
        var secretValues = secret.Data.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetString(kv.Value));
        Assert.Equal(Password, secretValues["REDIS_PASSWORD"]);

        var redis = objects.OfType<V1StatefulSet>().Single(s => s.Metadata.Name == "redis").Spec.Template.Spec.Containers.Single();
        var redisEnvironment = new Dictionary<string, string> { ["REDIS_PASSWORD"] = secretValues[redis.Env.Single(e => e.Name == "REDIS_PASSWORD").ValueFrom.SecretKeyRef.Key] };
        Assert.Equal(Password, RequirePass([.. redis.Command, .. redis.Args], redisEnvironment));

        // The connection string is built in the pod from $(PARAM_…) variables the Secret's keys fill.
        var users = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "users").Spec.Template.Spec.Containers.Single();
        var connection = users.Env.Single(e => e.Name == "ConnectionStrings__redis").Value;
        foreach (var variable in users.Env.Where(e => e.ValueFrom?.SecretKeyRef?.Name == secret.Metadata.Name))
        {
            connection = connection.Replace($"$({variable.Name})", secretValues[variable.ValueFrom.SecretKeyRef.Key], StringComparison.Ordinal);
        }
        Assert.Equal(Password, ConfigurationOptions.Parse(connection).Password);
    }

    /// <summary>
    /// StackExchange.Redis splits its connection string at every ',' and has no escape for one
    /// (StackExchange.Redis#680): such a password would reach Redis whole and the services cut, so they never connect.
    /// The publish refuses it, saying which characters are usable, and exits non-zero.
    /// </summary>
    [Theory]
    [InlineData("compose", "with,comma")]
    [InlineData("k8s", " padded ")]
    public async Task A_redis_password_the_connection_string_cannot_hold_is_refused_at_publish_naming_the_usable_characters(string target, string password)
    {
        var directory = Path.Combine(_root, target);
        var (exitCode, output, error) = await Task.Run(() => Run("dotnet", PublishOutput.RepositoryRoot, null,
            "run", "--no-build", "--no-launch-profile", "-c", PublishOutput.Configuration, "--project", PublishOutput.AppHostProject, "--",
            "--operation", "publish", "--step", $"publish-{target}", "--output-path", directory, $"--Parameters:redis-password={password}"));

        // A script (./shop publish, CI) must see the publish fail.
        Assert.True(exitCode != 0, "the refused publish exited 0");
        Assert.Contains("Parameter 'redis-password' (REDIS_PASSWORD) cannot have the value given", output + error);
        Assert.Contains("any character but ',', with no space at either end", output + error);
        Assert.False(File.Exists(Path.Combine(directory, target == "compose" ? ".env" : "secrets/redis-password.env")), "the refused value was written");
    }

    /// <summary>
    /// Runs a container's command (<c>/bin/sh -c "exec redis-server …"</c>) with a <c>redis-server</c> on PATH that prints
    /// each word it gets on a line of its own, and returns the word after <c>--requirepass</c>.
    /// </summary>
    private string RequirePass(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment)
    {
        Assert.Equal("/bin/sh", command[0]);
        var bin = Path.Combine(_root, "bin");
        Directory.CreateDirectory(bin);
        var shim = Path.Combine(bin, "redis-server");
        File.WriteAllText(shim, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        var (exitCode, output, error) = Run("/bin/sh", _root, new Dictionary<string, string>(environment) { ["PATH"] = $"{bin}:/usr/bin:/bin" }, [.. command.Skip(1)]);
        Assert.True(exitCode == 0, error);
        var words = output.Split('\n');
        return words[Array.IndexOf(words, "--requirepass") + 1];
    }

    private static Dictionary<string, string> Environment(Dictionary<object, object> service) =>
        ((Dictionary<object, object>)service["environment"]).ToDictionary(kv => (string)kv.Key, kv => (string)kv.Value);

    private static List<string> Strings(object list) => ((List<object>)list).Select(o => (string)o).ToList();

    private static (int ExitCode, string Output, string Error) Run(string command, string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
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

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
