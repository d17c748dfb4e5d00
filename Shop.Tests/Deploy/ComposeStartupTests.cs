using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Shop.Publishing;
using Xunit;

namespace Shop.Tests.Deploy;

/// <summary>
/// The compose output's start-up: every service health-checked and started in order, a missing
/// <c>.env</c> or key refused by compose itself naming the key, HTTPS at the gateway when a
/// certificate is given, and the base-image set chosen by one setting.
/// </summary>
[Collection(PublishCollection.Name)]
public sealed class ComposeStartupTests(PublishOutput output)
{
    private static Dictionary<object, object> Services(string directory) =>
        (Dictionary<object, object>)PublishOutput.LoadMap(Path.Combine(directory, "docker-compose.yaml"))["services"];

    private static Dictionary<object, object> Map(object? value) => (Dictionary<object, object>)value!;

    private static List<string> Strings(object? list) => ((List<object>?)list ?? []).Select(o => (string)o).ToList();

    [Fact]
    public void Every_service_has_a_healthcheck_and_waits_for_healthy_dependencies()
    {
        var services = Services(output.ComposeDirectory);
        // The migration steps run once and exit: no healthcheck; what waits for them waits for their exit code 0.
        var steps = ComposeOutputTests.ServiceDatabases.Select(d => d.Migrate).ToHashSet();
        foreach (var (name, service) in services.Select(kv => ((string)kv.Key, Map(kv.Value))))
        {
            Assert.True(service.ContainsKey("healthcheck") != steps.Contains(name), $"{name}: healthcheck");
            if (service.TryGetValue("depends_on", out var dependsOn))
            {
                foreach (var (target, condition) in Map(dependsOn).Select(kv => ((string)kv.Key, Map(kv.Value))))
                {
                    Assert.Equal(steps.Contains(target) ? "service_completed_successfully" : "service_healthy", condition["condition"]);
                }
            }
        }
        // The SPA's image answers /healthz (Shop.Web/nginx.conf); the gateway opens only once it does.
        Assert.Equal(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"], Strings(Map(Map(services["web"])["healthcheck"])["test"]));
        Assert.Equal("service_healthy", Map(Map(Map(services["gateway"])["depends_on"])["web"])["condition"]);
    }

    /// <summary>
    /// Inventory calls Users with its service key: when one <c>up -d</c> recreates both (Inventory's key rotation, step 1 of
    /// docs/deploy.md), the new inventory, presenting the new key, must start only once the new users that accepts it is
    /// healthy, as Orders does for its own key.
    /// </summary>
    [Fact]
    public void Inventory_starts_only_once_users_is_healthy()
    {
        var dependsOn = Map(Map(Services(output.ComposeDirectory)["inventory"])["depends_on"]);
        Assert.True(dependsOn.ContainsKey("users"), $"inventory does not wait for users: depends_on {string.Join(", ", dependsOn.Keys)}");
        Assert.Equal("service_healthy", Map(dependsOn["users"])["condition"]);
    }

    [Fact]
    public void Health_checks_answer_within_seconds_of_readiness_and_tolerate_a_minute_of_failures()
    {
        foreach (var (name, service) in Services(output.ComposeDirectory).Select(kv => ((string)kv.Key, Map(kv.Value))))
        {
            if (!service.TryGetValue("healthcheck", out var value))
            {
                continue;
            }
            var check = Map(value);
            // Each link of the start order (databases → users → orders → gateway) waits up to one interval
            // after its dependency is ready: the first check runs one interval after the container starts.
            var interval = Seconds(check["interval"]);
            Assert.True(interval <= 5, $"{name}: a {interval} s interval delays every service that waits for it");
            // "unhealthy" only after as many consecutive failures as before (a GC pause or a database restart is not an outage).
            Assert.True(interval * int.Parse((string)check["retries"], System.Globalization.CultureInfo.InvariantCulture) >= 60, $"{name}: unhealthy after less than a minute of failures");
            Assert.True(Seconds(check["timeout"]) >= 5, $"{name}: a probe on a busy host needs its 5 s");
        }
    }

    [Fact]
    public void Redis_is_its_containers_main_process_so_a_stop_reaches_it()
    {
        // Aspire's Redis runs through `sh -c`; a shell that stays PID 1 ignores the stop signal, so Docker kills
        // Redis after 10 s without its final save. exec hands PID 1 to redis-server.
        var command = Strings(Map(Services(output.ComposeDirectory)["redis"])["command"]);
        Assert.Equal("-c", command[0]);
        Assert.StartsWith("exec redis-server ", command[1]);
    }

    private static int Seconds(object? duration) =>
        int.Parse(((string)duration!).TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Compose_refuses_to_start_without_env_or_a_key_and_names_the_key()
    {
        if (!CommandExists("docker-compose"))
        {
            Assert.Skip("docker-compose is not installed (./shop platform setup installs Debian's 1.29).");
        }
        var copy = output.CopyOf(output.ComposeDirectory);
        // Debian's compose 1.29 predates the top-level name: key; users keep it, the test drops it.
        var compose = Path.Combine(copy, "docker-compose.v1.yaml");
        await File.WriteAllLinesAsync(compose, File.ReadAllLines(Path.Combine(copy, "docker-compose.yaml")).Where(l => !l.StartsWith("name:", StringComparison.Ordinal)));

        var env = Path.Combine(copy, ".env");
        var complete = await File.ReadAllLinesAsync(env);
        var (ok, okOutput) = Run("docker-compose", copy, "-p", "shop", "-f", compose, "config", "-q");
        Assert.True(ok, okOutput);

        await File.WriteAllLinesAsync(env, complete.Where(l => !l.StartsWith("ADMIN_PASSWORD=", StringComparison.Ordinal)));
        var (withoutKey, keyOutput) = Run("docker-compose", copy, "-p", "shop", "-f", compose, "config", "-q");
        Assert.False(withoutKey);
        Assert.Contains("ADMIN_PASSWORD is not set in .env", keyOutput);

        File.Delete(env);
        var (withoutEnv, envOutput) = Run("docker-compose", copy, "-p", "shop", "-f", compose, "config", "-q");
        Assert.False(withoutEnv);
        Assert.Matches("[A-Z_]+ is not set in .env", envOutput);
    }

    [Fact]
    public void Without_a_certificate_the_gateway_serves_plain_http_only()
    {
        var gateway = Map(Services(output.ComposeDirectory)["gateway"]);
        Assert.Equal(["8080:8080"], Strings(gateway["ports"]));
        Assert.DoesNotContain(Map(gateway["environment"]).Keys.Cast<string>(), k => k.StartsWith("Kestrel__", StringComparison.Ordinal));
        Assert.False(gateway.ContainsKey("volumes"));
    }

    [Fact]
    public void With_a_certificate_the_gateway_serves_https_from_files_named_in_env()
    {
        var gateway = Map(Services(output.ComposeVariantDirectory)["gateway"]);
        Assert.Equal(["8080:8080", "443:8443"], Strings(gateway["ports"]));
        var environment = Map(gateway["environment"]).ToDictionary(kv => (string)kv.Key, kv => (string)kv.Value);
        Assert.Equal("https://+:8443", environment["Kestrel__Endpoints__https__Url"]);
        Assert.Equal("http://+:8080", environment["Kestrel__Endpoints__http__Url"]);
        Assert.Equal("/run/tls/tls.crt", environment["Kestrel__Endpoints__https__Certificate__Path"]);
        Assert.Equal("/run/tls/tls.key", environment["Kestrel__Endpoints__https__Certificate__KeyPath"]);
        Assert.Equal("443", environment["ASPNETCORE_HTTPS_PORT"]); // where HTTP is redirected to
        // The files are bind-mounted read-only from paths in .env; compose refuses to start without them.
        Assert.Equal(
            ["${SHOP_TLS_CERTIFICATE:?SHOP_TLS_CERTIFICATE is not set in .env}:/run/tls/tls.crt:ro", "${SHOP_TLS_KEY:?SHOP_TLS_KEY is not set in .env}:/run/tls/tls.key:ro"],
            Strings(gateway["volumes"]));
        var env = PublishOutput.LoadEnvFile(Path.Combine(output.ComposeVariantDirectory, ".env"));
        Assert.Equal(PublishOutput.TlsCertificate, env["SHOP_TLS_CERTIFICATE"]);
        Assert.Equal(PublishOutput.TlsKey, env["SHOP_TLS_KEY"]);
        Assert.True(PublishOutput.LoadEnvFile(Path.Combine(output.ComposeVariantDirectory, ".env.example")).ContainsKey("SHOP_TLS_KEY"));
        // The health check stays on plain HTTP inside the network (the gateway does not redirect it).
        Assert.Contains("http://127.0.0.1:8080/health", Strings(Map(gateway["healthcheck"])["test"]));
        // Only the edge terminates TLS.
        Assert.All(Services(output.ComposeVariantDirectory).Where(kv => (string)kv.Key != "gateway"),
            kv => Assert.False(Map(kv.Value).TryGetValue("environment", out var e) && Map(e).ContainsKey("Kestrel__Endpoints__https__Url")));
    }

    [Fact]
    public void One_setting_chooses_the_locally_built_base_images_and_the_default_is_official()
    {
        var official = Services(output.ComposeDirectory);
        Assert.Equal("docker.io/library/postgres:15-alpine", Map(official["users-db"])["image"]);
        Assert.Equal("docker.io/library/redis:7-alpine", Map(official["redis"])["image"]);
        Assert.False(Map(Map(official["web"])["build"]).ContainsKey("args")); // the Dockerfile's defaults: node/nginx alpine

        var local = Services(output.ComposeVariantDirectory);
        Assert.Equal("localhost:5000/shop-local/postgres:15", Map(local["users-db"])["image"]);
        Assert.Equal("localhost:5000/shop-local/redis:7", Map(local["redis"])["image"]);
        var args = Map(Map(Map(local["web"])["build"])["args"]);
        Assert.Equal("localhost:5000/shop-local/node:20", args["NODE_IMAGE"]);
        Assert.Equal("localhost:5000/shop-local/nginx:1.27", args["NGINX_IMAGE"]);
        // The Shop's own images are named as always.
        Assert.Equal("${SHOP_REGISTRY:-shop}/users:${SHOP_TAG:-latest}", Map(local["users"])["image"]);

        // The Dockerfile takes them as build arguments, defaulting to the official images.
        var dockerfile = File.ReadAllText(Path.Combine(PublishOutput.RepositoryRoot, "Shop.Web", "Dockerfile"));
        Assert.Contains("ARG NODE_IMAGE=node:20-alpine", dockerfile);
        Assert.Contains("ARG NGINX_IMAGE=nginx:1.27-alpine", dockerfile);
        Assert.Contains("FROM ${NODE_IMAGE} AS build", dockerfile);
        Assert.Contains("FROM ${NGINX_IMAGE}", dockerfile);
    }

    [Fact]
    public void The_sdk_builds_on_the_local_aspnet_base_for_glibc_only_when_asked()
    {
        static IReadOnlyList<string> Arguments(params (string Key, string Value)[] settings)
        {
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
            return ContainerImageBuilder.PublishArguments("Shop.Users/Shop.Users.csproj", "users", PublishOptions.From(configuration), "/tmp/out");
        }

        var official = Arguments();
        Assert.Contains("-p:ContainerFamily=alpine", official);
        Assert.DoesNotContain(official, a => a.StartsWith("-p:ContainerBaseImage=", StringComparison.Ordinal));
        Assert.Equal("linux-musl-x64", official[official.ToList().IndexOf("-r") + 1]);

        var local = Arguments(("Shop:Publish:BaseImages", "local"));
        Assert.Contains("-p:ContainerBaseImage=localhost:5000/shop-local/aspnet:10.0", local);
        Assert.Equal("linux-x64", local[local.ToList().IndexOf("-r") + 1]); // Debian's glibc
        Assert.Contains("-p:ContainerUser=1654", local);

        // An explicit platform still wins (e.g. ARM).
        var arm = Arguments(("Shop:Publish:BaseImages", "local"), ("Shop:Publish:RuntimeIdentifier", "linux-arm64"));
        Assert.Equal("linux-arm64", arm[arm.ToList().IndexOf("-r") + 1]);
    }

    [Fact]
    public void No_secret_value_is_in_either_compose_file()
    {
        foreach (var directory in (string[])[output.ComposeDirectory, output.ComposeVariantDirectory])
        {
            var yaml = File.ReadAllText(Path.Combine(directory, "docker-compose.yaml"));
            var env = PublishOutput.LoadEnvFile(Path.Combine(directory, ".env"));
            // An optional key left unset (a rotation's, empty until one is under way) has no value to leak.
            foreach (var (key, value) in env.Where(kv => (kv.Key.Contains("PASSWORD") || kv.Key.Contains("KEY")) && kv.Value.Length > 0))
            {
                Assert.False(yaml.Contains(value, StringComparison.Ordinal), $"{key}'s value is in {directory}/docker-compose.yaml");
            }
        }
    }

    private static bool CommandExists(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, command)));

    private static (bool Ok, string Output) Run(string command, string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(command) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        // docker-compose config reads no daemon; make sure it could not reach one anyway.
        info.Environment.Remove("DOCKER_HOST");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode == 0, stdout.Result + stderr.Result);
    }
}
