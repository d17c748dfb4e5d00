using Xunit;
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
        var directory = Path.Combine(_root, "compose");
        await PublishOutput.RunAppHostAsync("--operation", "publish", "--step", "publish-compose", "--output-path", directory, $"--Parameters:redis-password={Password}");
        if (PublishOutput.ComposeConfig(directory) is not { } services)
        {
            Assert.Skip("docker-compose is not installed (./shop platform setup installs Debian's 1.29).");
            return;
        }
        var redis = (Dictionary<object, object>)services["redis"];
        var redisEnvironment = PublishOutput.ComposeEnvironment(redis);
        Assert.Equal(Password, redisEnvironment["REDIS_PASSWORD"]);

        Assert.Equal(Password, RequirePass(Strings(redis["entrypoint"]).Concat(Strings(redis["command"])).ToList(), redisEnvironment));
        Assert.Equal(Password, ConfigurationOptions.Parse(PublishOutput.ComposeEnvironment(services["users"])["ConnectionStrings__redis"]).Password);
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
        Assert.Equal(Password, ConfigurationOptions.Parse(PublishOutput.PodValue(users, "ConnectionStrings__redis", objects.OfType<V1Secret>())).Password);
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
        var (exitCode, output, error) = await PublishOutput.PublishAsync(target, directory, $"--Parameters:redis-password={password}");

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
        var (exitCode, output, error) = PublishOutput.Capture("/bin/sh", _root, new Dictionary<string, string>(environment) { ["PATH"] = $"{bin}:/usr/bin:/bin" }, [.. command.Skip(1)]);
        Assert.True(exitCode == 0, error);
        var words = output.Split('\n');
        return words[Array.IndexOf(words, "--requirepass") + 1];
    }

    private static List<string> Strings(object list) => ((List<object>)list).Select(o => (string)o).ToList();

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
