using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// How the AppHost runs PostgreSQL and Redis (<c>Shop:Infrastructure</c>): as Aspire containers from the
/// base-image set <c>Shop:Publish:BaseImages</c> names, or as local processes, which stay the default
/// where no container runtime answers. The app models are built, not started (no daemon needed), except
/// the last test, which checks the shared app of a <c>./shop test --containers</c> run.
/// </summary>
public sealed class ContainerModeTests(ShopApp shop)
{
    private static readonly string[] Databases = ["users-db", "orders-db", "inventory-db"];
    private static readonly string[] DataResources = [.. Databases, "redis"];
    private static readonly string[] Services = ["users", "orders", "inventory", "gateway"];

    [Fact]
    public async Task Containers_mode_runs_postgres_and_redis_as_aspire_containers_from_the_local_images_and_the_services_as_projects()
    {
        var model = await ModelAsync("Shop:Infrastructure=containers", "Shop:Publish:BaseImages=local");

        foreach (var name in Databases)
        {
            var server = Assert.IsType<PostgresServerResource>(model[name]);
            AssertImage(server, "localhost:5000", "shop-local/postgres", "15");
        }
        AssertImage(Assert.IsType<RedisResource>(model["redis"]), "localhost:5000", "shop-local/redis", "7");
        Assert.All(Services, s => Assert.IsType<ProjectResource>(model[s]));
    }

    [Fact]
    public async Task Containers_keep_a_developers_data_in_named_volumes_and_a_test_hosts_in_none()
    {
        var developer = await ModelAsync("Shop:Infrastructure=containers");
        foreach (var name in DataResources)
        {
            Assert.Contains($"shop-{name}-data", NamedVolumes(developer[name]));
        }

        // A test host (Shop:EphemeralData) starts on empty databases and leaves nothing behind; a named
        // volume would carry one run's data into the next and be shared by two hosts running at once.
        var testHost = await ModelAsync("Shop:Infrastructure=containers", "Shop:EphemeralData=true");
        foreach (var name in DataResources)
        {
            Assert.Empty(NamedVolumes(testHost[name]));
        }
    }

    [Fact]
    public async Task Without_a_setting_and_with_nothing_answering_docker_info_postgres_and_redis_are_local_processes()
    {
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host)
        {
            Assert.Skip($"DOCKER_HOST={host} is set for this run (./shop test --containers): the default is checked without it.");
        }
        // What the automatic choice sees: on our machines Docker is installed but its default socket is silent.
        Assert.False(await DockerInfoAnswersAsync(), "plain 'docker info' answers here, so the automatic choice is containers on this machine");

        var model = await ModelAsync("Shop:Infrastructure=auto");
        foreach (var name in DataResources)
        {
            Assert.IsNotAssignableFrom<ContainerResource>(model[name]);
            Assert.IsAssignableFrom<ExecutableResource>(model[name]);
        }
    }

    [Fact]
    public async Task In_a_containers_run_the_shared_app_uses_containers_on_the_private_daemon()
    {
        if (Environment.GetEnvironmentVariable("Shop__Infrastructure") != "containers")
        {
            Assert.Skip("Runs in ./shop test --containers only (Shop__Infrastructure=containers).");
        }
        var resources = shop.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.ToDictionary(r => r.Name);
        Assert.All(Databases, name => Assert.IsType<PostgresServerResource>(resources[name]));
        Assert.IsType<RedisResource>(resources["redis"]);

        // The daemon DOCKER_HOST names runs them, from the local images, and not the default socket's.
        var (ok, output) = await RunAsync("docker", "ps", "--format", "{{.Image}} {{.Names}}");
        Assert.True(ok, output);
        foreach (var name in Databases)
        {
            Assert.Contains(output.Split('\n'), l => l.StartsWith("localhost:5000/shop-local/postgres:15 " + name + "-", StringComparison.Ordinal));
        }
        var redis = Assert.Single(output.Split('\n'), l => l.StartsWith("localhost:5000/shop-local/redis:7 redis-", StringComparison.Ordinal)).Split(' ')[1];
        Assert.StartsWith("unix:///", Environment.GetEnvironmentVariable("DOCKER_HOST"));

        // Redis is the container's main process, so stopping the resource stops it at once, after its final save.
        var (found, comm) = await RunAsync("docker", "exec", redis, "cat", "/proc/1/comm");
        Assert.True(found, comm);
        Assert.Equal("redis-server", comm.Trim());
    }

    private static async Task<Dictionary<string, IResource>> ModelAsync(params string[] args)
    {
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Shop_AppHost>(
            ["Shop:GatewayPort=0", .. args], TestContext.Current.CancellationToken);
        return builder.Resources.ToDictionary(r => r.Name);
    }

    private static void AssertImage(ContainerResource resource, string registry, string image, string tag)
    {
        var annotation = resource.Annotations.OfType<ContainerImageAnnotation>().Single();
        Assert.Equal((registry, image, tag), (annotation.Registry, annotation.Image, annotation.Tag));
    }

    private static IEnumerable<string> NamedVolumes(IResource resource) =>
        resource.Annotations.OfType<ContainerMountAnnotation>()
            .Where(m => m.Type == ContainerMountType.Volume && m.Source is not null)
            .Select(m => m.Source!);

    private static async Task<bool> DockerInfoAnswersAsync() => (await RunAsync("docker", "info", "--format", "{{.ServerVersion}}")).Ok;

    private static async Task<(bool Ok, string Output)> RunAsync(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode == 0, await output + await error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (false, e.Message); // not installed
        }
    }
}
