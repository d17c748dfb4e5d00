using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using k8s;
using k8s.Models;
using Shop.Publishing;
using Xunit;

namespace Shop.Tests.Deploy;

/// <summary>
/// A test AppHost built in-process: a resource added to it appears in both outputs with its
/// references resolved, with no change to the publishers.
/// </summary>
public sealed class AddedResourceTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "shop-deploy-added-" + Guid.NewGuid().ToString("N"));

    private async Task PublishAsync(string step, string directory, bool withMailer)
    {
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            Args = ["--operation", "publish", "--step", step, "--output-path", directory],
            DisableDashboard = true,
        });
        var password = builder.AddParameter("cache-password", secret: true);
        var cache = builder.AddRedis("cache", password: password);
        if (withMailer)
        {
            var apiKey = builder.AddParameter("mailer-api-key", secret: true);
            builder.AddContainer("mailer", "docker.io/axllent/mailpit", "v1.20")
                .WithHttpEndpoint(targetPort: 8025, name: "http")
                .WithReference(cache).WaitFor(cache)
                .WithEnvironment("MAILER_API_KEY", apiKey)
                .WithVolume("mailer-data", "/data");
        }
        builder.AddShopPublishers();
        using var app = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await app.RunAsync(timeout.Token);
    }

    [Fact]
    public async Task A_resource_added_to_the_AppHost_appears_in_compose_and_kubernetes()
    {
        var composeBefore = Path.Combine(_root, "compose-before");
        var compose = Path.Combine(_root, "compose");
        var k8s = Path.Combine(_root, "k8s");
        await PublishAsync(ShopPublishingExtensions.ComposeStep, composeBefore, withMailer: false);
        await PublishAsync(ShopPublishingExtensions.ComposeStep, compose, withMailer: true);
        await PublishAsync(ShopPublishingExtensions.KubernetesStep, k8s, withMailer: true);

        var before = (Dictionary<object, object>)PublishOutput.LoadMap(Path.Combine(composeBefore, "docker-compose.yaml"))["services"];
        Assert.Equal(["cache"], before.Keys.Cast<string>());

        var composeFile = PublishOutput.LoadMap(Path.Combine(compose, "docker-compose.yaml"));
        var mailer = (Dictionary<object, object>)((Dictionary<object, object>)composeFile["services"])["mailer"];
        var environment = (Dictionary<object, object>)mailer["environment"];
        Assert.Equal("docker.io/axllent/mailpit:v1.20", mailer["image"]);
        Assert.StartsWith("cache:6379,password=${CACHE_PASSWORD:?", (string)environment["ConnectionStrings__cache"]);
        Assert.StartsWith("${MAILER_API_KEY:?", (string)environment["MAILER_API_KEY"]);
        Assert.Equal("service_healthy", ((Dictionary<object, object>)((Dictionary<object, object>)mailer["depends_on"])["cache"])["condition"]);
        Assert.Contains("mailer-data", ((Dictionary<object, object>)composeFile["volumes"]).Keys.Cast<string>());
        Assert.True(PublishOutput.LoadEnvFile(Path.Combine(compose, ".env"))["MAILER_API_KEY"].Length >= 32);

        var objects = KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(k8s, "mailer.yaml")));
        var set = Assert.Single(objects.OfType<V1StatefulSet>());
        var container = Assert.Single(set.Spec.Template.Spec.Containers);
        Assert.Equal(8025, Assert.Single(container.Ports).ContainerPort);
        Assert.Equal(8025, container.ReadinessProbe.TcpSocket.Port.Value is var p ? int.Parse(p) : 0);
        Assert.Contains(container.Env, e => e.Name == "MAILER_API_KEY" && e.ValueFrom.SecretKeyRef.Key == "MAILER_API_KEY");
        Assert.Contains(container.Env, e => e.Name == "ConnectionStrings__cache" && e.Value == "cache:6379,password=$(PARAM_CACHE_PASSWORD)");
        Assert.Equal("mailer", Assert.Single(objects.OfType<V1Service>()).Metadata.Name);
        Assert.Contains("mailer.yaml", File.ReadAllText(Path.Combine(k8s, "kustomization.yaml")));
        Assert.Contains(container.Env, e => e.Name == "MAILER_API_KEY" && e.ValueFrom.SecretKeyRef.Name == "mailer-api-key");
        Assert.StartsWith("MAILER_API_KEY=", File.ReadAllText(Path.Combine(k8s, "secrets", "mailer-api-key.env")));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
