using k8s;
using k8s.Models;
using Shop.Publishing;
using static Shop.UnitTests.Publishing.Deployments;

namespace Shop.UnitTests.Publishing;

/// <summary>The objects the Kubernetes writer makes for one service, built in memory.</summary>
public sealed class KubernetesBuilderTests
{
    private static List<IKubernetesObject> Objects(DeployService service, DeploymentModel? model = null) =>
        [.. KubernetesWriter.ServiceObjects(new ServicePlan(service, model ?? Model(service), Options, "shop.example.com"))];

    [Fact]
    public void A_service_with_an_http_endpoint_gets_a_deployment_probed_on_it_and_a_cluster_ip_service()
    {
        var users = Project("users", ports: [Http(8080)]);

        var objects = Objects(users);

        Assert.Equal(["ConfigMap", "Deployment", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Service"], objects.Select(o => o.Kind));
        var container = Assert.Single(objects.OfType<V1Deployment>().Single().Spec.Template.Spec.Containers);
        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("8080", container.ReadinessProbe.HttpGet.Port.Value);
        Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
        var service = objects.OfType<V1Service>().Single();
        Assert.Equal("ClusterIP", service.Spec.Type);
        Assert.Null(service.Spec.ClusterIP);
        var port = Assert.Single(service.Spec.Ports);
        Assert.Equal((8080, "8080"), (port.Port, port.TargetPort.Value));
        Assert.Equal("users", service.Spec.Selector[KubernetesWriter.NameLabel]);
    }

    [Fact]
    public void A_service_without_an_endpoint_gets_no_service_no_policy_no_ingress_and_no_probe()
    {
        var worker = Project("worker");

        var objects = Objects(worker, Model(worker, Project("orders", references: ["worker"])));

        Assert.Equal(["ConfigMap", "Deployment", "PodDisruptionBudget", "HorizontalPodAutoscaler"], objects.Select(o => o.Kind));
        var container = objects.OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single();
        Assert.Null(container.Ports);
        Assert.Null(container.ReadinessProbe);
    }

    [Fact]
    public void Only_an_external_http_endpoint_gets_a_tls_ingress()
    {
        var gateway = Project("gateway", ports: [Http(8080, published: 8080)]);

        var ingress = Objects(gateway).OfType<V1Ingress>().Single();

        Assert.Equal("shop.example.com", ingress.Spec.Rules.Single().Host);
        Assert.Equal(Options.TlsSecret, ingress.Spec.Tls.Single().SecretName);
        Assert.Empty(Objects(Project("users", ports: [Http(8080)])).OfType<V1Ingress>());
    }

    [Fact]
    public void The_network_policy_admits_only_the_services_that_reference_it()
    {
        var users = Project("users", ports: [Http(8080)]);
        var model = Model(users, Project("orders", references: ["users"]), Project("inventory", references: ["redis"]));

        var policy = Objects(users, model).OfType<V1NetworkPolicy>().Single();

        var rule = Assert.Single(policy.Spec.Ingress);
        Assert.Equal(["orders"], rule.FromProperty.Select(p => p.PodSelector.MatchLabels[KubernetesWriter.NameLabel]));
        Assert.Equal(["8080"], rule.Ports.Select(p => p.Port.Value));
    }

    [Fact]
    public void Secrets_never_go_into_a_config_map()
    {
        var users = Project("users", ports: [Http(8080)], environment:
        [
            new("Jwt__SigningKey", Parameter(Secret)),
            new("ConnectionStrings__db", ConnectionString),
            new("Admin__Email", Parameter(Plain)),
            new("Logging__LogLevel__Default", Literal("Information")),
        ]);

        var objects = Objects(users);

        var data = objects.OfType<V1ConfigMap>().SelectMany(c => c.Data).ToList();
        Assert.Equal(["Logging__LogLevel__Default"], data.Select(d => d.Key));
        var env = objects.OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single().Env.ToDictionary(e => e.Name);
        Assert.Equal((KubernetesWriter.SecretName, "DB_PASSWORD"), (env["Jwt__SigningKey"].ValueFrom.SecretKeyRef.Name, env["Jwt__SigningKey"].ValueFrom.SecretKeyRef.Key));
        Assert.Equal(KubernetesWriter.SecretName, env["PARAM_DB_PASSWORD"].ValueFrom.SecretKeyRef.Name);
        Assert.Equal("Host=db;Password=$(PARAM_DB_PASSWORD)", env["ConnectionStrings__db"].Value);
        Assert.Equal(KubernetesWriter.ParametersConfigMap, env["Admin__Email"].ValueFrom.ConfigMapKeyRef.Name);
    }

    [Fact]
    public void Secret_values_are_written_only_to_the_git_ignored_secrets_env()
    {
        var directory = Directory.CreateTempSubdirectory("shop-k8s-unit-");
        try
        {
            var users = Project("users", ports: [Http(8080)], environment: [new("ConnectionStrings__db", ConnectionString), new("Admin__Email", Parameter(Plain))]);
            var values = new Dictionary<string, string>
            {
                ["DB_PASSWORD"] = "s3cret-value", ["DB_PASSWORD_URI"] = "s3cret-value",
                ["ADMIN_EMAIL"] = "admin@example.com", ["ADMIN_EMAIL_URI"] = "admin%40example.com",
            };

            KubernetesWriter.Write(Model(users), values, Options, directory.FullName);

            var holders = directory.EnumerateFiles().Where(f => File.ReadAllText(f.FullName).Contains("s3cret-value")).Select(f => f.Name);
            Assert.Equal([KubernetesWriter.SecretsEnvFile], holders);
            Assert.Contains("ADMIN_EMAIL: admin@example.com", File.ReadAllText(Path.Combine(directory.FullName, KubernetesWriter.ParametersFile)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_service_with_volumes_is_one_stateful_set_with_a_headless_service_and_its_files_in_a_config_map()
    {
        var database = Database("users-db");

        var objects = Objects(database);

        Assert.Equal(["ConfigMap", "ConfigMap", "StatefulSet", "Service"], objects.Select(o => o.Kind));
        Assert.Equal("users-db-docker-entrypoint-initdb-d", objects.OfType<V1ConfigMap>().Last().Metadata.Name);
        var statefulSet = objects.OfType<V1StatefulSet>().Single();
        Assert.Equal(1, statefulSet.Spec.Replicas);
        Assert.Equal("users-db-data", statefulSet.Spec.VolumeClaimTemplates.Single().Metadata.Name);
        Assert.Equal("None", objects.OfType<V1Service>().Single().Spec.ClusterIP);
    }

    [Fact]
    public void Every_container_runs_hardened()
    {
        var orders = Project("orders", ports: [Http(8080)], dependsOn: ["orders-db", "users"],
            steps: [new DeployStep("migrate", [Literal("--migrate")], [new("ConnectionStrings__owner", ConnectionString)], [])]);
        var model = Model(orders, Project("users", ports: [Http(8080)]), Database("orders-db"));

        var pod = Objects(orders, model).OfType<V1Deployment>().Single().Spec.Template.Spec;

        // A wait for its database (not for another service: ContainerBuilder.WaitForDependencies), then its step.
        Assert.Equal(["wait-for-orders-db", "migrate"], pod.InitContainers.Select(c => c.Name));
        Assert.All(pod.InitContainers.Concat(pod.Containers), c =>
        {
            Assert.True(c.SecurityContext.ReadOnlyRootFilesystem);
            Assert.False(c.SecurityContext.AllowPrivilegeEscalation);
            Assert.Equal(["ALL"], c.SecurityContext.Capabilities.Drop);
        });
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
    }
}
