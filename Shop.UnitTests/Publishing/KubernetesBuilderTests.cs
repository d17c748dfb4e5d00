using Microsoft.Extensions.Configuration;
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

        Assert.Equal(["Deployment", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Service"], objects.Select(o => o.Kind));
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

    /// <summary>The databases' max_connections counts the same maximum (DatabaseConnectionBudget: PublishOptions.AutoscalerReplicas).</summary>
    [Theory]
    [InlineData(2, 10, 12, 12)]
    [InlineData(12, 10, 12, 12)]
    public void The_autoscalers_maximum_is_raised_to_a_minimum_above_it(int min, int max, int expectedMin, int expectedMax)
    {
        var options = Options with { MinReplicas = min, MaxReplicas = max };
        var users = Project("users", ports: [Http(8080)]) with { Replicas = 12 };

        var autoscaler = KubernetesWriter.ServiceObjects(new ServicePlan(users, Model(users), options, "shop.example.com")).OfType<V2HorizontalPodAutoscaler>().Single();

        Assert.Equal((expectedMin, expectedMax), (autoscaler.Spec.MinReplicas, autoscaler.Spec.MaxReplicas));
        Assert.Equal((expectedMin, expectedMax), options.AutoscalerReplicas(users.Replicas));
    }

    /// <summary>
    /// Shop:Publish:ImagePullSecret names a docker-registry Secret the operator created: the pods of the images built
    /// here (pushed to Shop:Publish:Registry) pull with it; the databases' and Redis' public images need none.
    /// </summary>
    [Fact]
    public void The_shops_own_images_are_pulled_with_the_configured_registry_secret()
    {
        var options = PublishOptions.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Shop:Publish:Registry"] = "ghcr.io/acme",
            ["Shop:Publish:ImagePullSecret"] = "acme-registry",
        }).Build());
        var users = Project("users", ports: [Http(8080)]);
        var web = Project("web", ports: [Http(8080)]) with { Kind = ServiceKind.DockerfileBuild };
        var database = Database("users-db");
        var model = Model(users, web, database);

        V1PodSpec Pod(DeployService service, PublishOptions options) =>
            KubernetesWriter.ServiceObjects(new ServicePlan(service, model, options, "shop.example.com"))
                .Select(o => o switch { V1Deployment d => d.Spec.Template.Spec, V1StatefulSet s => s.Spec.Template.Spec, _ => null })
                .Single(p => p is not null)!;

        Assert.Equal(["acme-registry"], Pod(users, options).ImagePullSecrets?.Select(r => r.Name) ?? []);
        Assert.Equal(["acme-registry"], Pod(web, options).ImagePullSecrets?.Select(r => r.Name) ?? []);
        Assert.Null(Pod(database, options).ImagePullSecrets);
        Assert.Null(Pod(users, Options).ImagePullSecrets); // not set: the node's own credentials, if any
    }

    [Fact]
    public void A_service_without_an_endpoint_gets_no_service_no_policy_no_ingress_and_no_probe()
    {
        var worker = Project("worker");

        var objects = Objects(worker, Model(worker, Project("orders", references: ["worker"])));

        Assert.Equal(["Deployment", "PodDisruptionBudget", "HorizontalPodAutoscaler"], objects.Select(o => o.Kind));
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

        var plan = new ServicePlan(users, Model(users), Options, "shop.example.com");
        var objects = KubernetesWriter.ServiceObjects(plan).ToList();

        // The settings ConfigMap's data (generated by kustomize from them) and any other ConfigMap's.
        var data = plan.PlainEnvironment.Concat(objects.OfType<V1ConfigMap>().SelectMany(c => c.Data)).ToList();
        Assert.Equal(["Logging__LogLevel__Default"], data.Select(d => d.Key));
        var env = objects.OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single().Env.ToDictionary(e => e.Name);
        // The parameter's own Secret (named after it; kustomize adds the hash).
        Assert.Equal(("db-password", "DB_PASSWORD"), (env["Jwt__SigningKey"].ValueFrom.SecretKeyRef.Name, env["Jwt__SigningKey"].ValueFrom.SecretKeyRef.Key));
        Assert.Equal("db-password", env["PARAM_DB_PASSWORD"].ValueFrom.SecretKeyRef.Name);
        Assert.Equal("Host=db;Password=$(PARAM_DB_PASSWORD)", env["ConnectionStrings__db"].Value);
        Assert.Equal(KubernetesWriter.ParametersConfigMap, env["Admin__Email"].ValueFrom.ConfigMapKeyRef.Name);
    }

    /// <summary>
    /// Each secret parameter is a Secret of its own, generated from its own git-ignored file (its key, and its URI-escaped
    /// form when a URI uses it): a new value renames only that Secret, so only the pods that read it roll.
    /// </summary>
    [Fact]
    public void Secret_values_are_written_only_to_their_own_git_ignored_file_each_generating_its_secret()
    {
        InOutputDirectory(directory =>
        {
            var uri = new DeployValue([new LiteralSegment("redis://:"), new ParameterSegment(Secret, UriEncoded: true), new LiteralSegment("@redis:6379")]);
            var users = Project("users", ports: [Http(8080)], environment: [new("ConnectionStrings__db", ConnectionString), new("Cache", uri), new("Admin__Email", Parameter(Plain))]);
            var values = new Dictionary<string, string>
            {
                ["DB_PASSWORD"] = "s3cret-value", ["DB_PASSWORD_URI"] = "s3cret-value%21",
                ["ADMIN_EMAIL"] = "admin@example.com", ["ADMIN_EMAIL_URI"] = "admin%40example.com",
            };

            KubernetesWriter.Write(Model(users), values, Options, directory.FullName);

            var holders = directory.EnumerateFiles("*", SearchOption.AllDirectories).Where(f => File.ReadAllText(f.FullName).Contains("s3cret-value"))
                .Select(f => Path.GetRelativePath(directory.FullName, f.FullName));
            Assert.Equal(["secrets/db-password.env"], holders);
            Assert.Equal("DB_PASSWORD=s3cret-value\nDB_PASSWORD_URI=s3cret-value%21\n", File.ReadAllText(Path.Combine(directory.FullName, "secrets", "db-password.env")));
            Assert.Contains("secretGenerator:\n- name: db-password\n  envs:\n  - secrets/db-password.env\n", File.ReadAllText(Path.Combine(directory.FullName, KubernetesWriter.KustomizationFile)));
            Assert.Contains("secrets/", File.ReadAllLines(Path.Combine(directory.FullName, ".gitignore")));
            Assert.Equal("ADMIN_EMAIL=admin@example.com\n", File.ReadAllText(Path.Combine(directory.FullName, KubernetesWriter.ParametersEnvFile)));
            Assert.Equal(values.Where(v => v.Key != "ADMIN_EMAIL_URI").OrderBy(v => v.Key), KubernetesWriter.ReadValues(directory.FullName).OrderBy(v => v.Key));
        });
    }

    /// <summary>
    /// An output of an earlier version kept every secret in one <c>secrets.env</c> (one Secret, <c>shop-secrets</c>): its
    /// values are read back once, written to each Secret's own file, and the file goes.
    /// </summary>
    [Fact]
    public void The_secrets_of_an_earlier_outputs_single_secrets_env_are_read_back_once()
    {
        InOutputDirectory(directory =>
        {
            var legacy = Path.Combine(directory.FullName, "secrets.env");
            File.WriteAllText(legacy, "DB_PASSWORD=kept\n");
            var values = KubernetesWriter.ReadValues(directory.FullName);
            Assert.Equal("kept", values["DB_PASSWORD"]);

            KubernetesWriter.Write(Model(), new Dictionary<string, string> { ["DB_PASSWORD"] = values["DB_PASSWORD"], ["ADMIN_EMAIL"] = "a@b" }, Options, directory.FullName);

            Assert.False(File.Exists(legacy), "secrets.env of the earlier layout is still there");
            Assert.Equal(new Dictionary<string, string> { ["ADMIN_EMAIL"] = "a@b", ["DB_PASSWORD"] = "kept" }, KubernetesWriter.ReadValues(directory.FullName));
        });
    }

    /// <summary>
    /// The ConfigMaps a container reads only at start are generated by kustomize (a hash of their content in
    /// their name and in every reference), so a changed value rolls the pods that read it; and the values
    /// already in the output are what the next publish keeps.
    /// </summary>
    [Fact]
    public void Settings_and_parameters_are_generated_config_maps_and_read_back_from_the_output()
    {
        InOutputDirectory(directory =>
        {
            var users = Project("users", ports: [Http(8080)], environment: [new("Admin__Email", Parameter(Plain)), new("Greeting", Literal("a=b #c $(x)"))]);
            var values = new Dictionary<string, string> { ["DB_PASSWORD"] = "s3cret-value", ["ADMIN_EMAIL"] = "admin@example.com" };

            KubernetesWriter.Write(Model(users), values, Options, directory.FullName);

            var kustomization = File.ReadAllText(Path.Combine(directory.FullName, KubernetesWriter.KustomizationFile));
            Assert.Contains("configMapGenerator:\n- name: shop-parameters\n  envs:\n  - parameters.env\n", kustomization);
            Assert.Contains("- name: users-env\n  envs:\n  - users.env\n  options:\n    labels:\n      app.kubernetes.io/name: users-env\n", kustomization);
            Assert.Equal("Greeting=a=b #c $(x)\n", File.ReadAllText(Path.Combine(directory.FullName, "users.env")));
            Assert.DoesNotContain("kind: ConfigMap", File.ReadAllText(Path.Combine(directory.FullName, "users.yaml")));
            Assert.Equal(values, KubernetesWriter.ReadValues(directory.FullName));
        });
    }

    /// <summary>
    /// kustomize's env files keep a value's quotes (<c>DB_PASSWORD='s3cret'</c> gives the pods <c>'s3cret'</c>, checked with
    /// kubectl 1.32's kustomize v5.5.0). Publishing again read such a value without them and wrote that back: the pods'
    /// password changed under them (a database's no longer matched the one its volume was created with).
    /// </summary>
    [Fact]
    public void A_value_in_single_quotes_edited_in_the_output_is_published_again_as_the_pods_had_it()
    {
        InOutputDirectory(directory =>
        {
            var users = Project("users", ports: [Http(8080)], environment: [new("ConnectionStrings__db", ConnectionString), new("Admin__Email", Parameter(Plain))]);
            KubernetesWriter.Write(Model(users), new Dictionary<string, string> { ["DB_PASSWORD"] = "generated", ["ADMIN_EMAIL"] = "a@b" }, Options, directory.FullName);
            var secretFile = Path.Combine(directory.FullName, "secrets", "db-password.env");
            var parametersFile = Path.Combine(directory.FullName, KubernetesWriter.ParametersEnvFile);
            File.WriteAllText(secretFile, "DB_PASSWORD='s3cret'\n");
            File.WriteAllText(parametersFile, "ADMIN_EMAIL='a@b'\n");

            KubernetesWriter.Write(Model(users), KubernetesWriter.ReadValues(directory.FullName), Options, directory.FullName);

            Assert.Equal("DB_PASSWORD='s3cret'\n", File.ReadAllText(secretFile));
            Assert.Equal("ADMIN_EMAIL='a@b'\n", File.ReadAllText(parametersFile));
        });
    }

    /// <summary>An output of an earlier version kept the non-secret parameters in parameters.yaml: its values are kept once, and the file goes.</summary>
    [Fact]
    public void The_parameters_of_an_earlier_outputs_parameters_yaml_are_read_back()
    {
        InOutputDirectory(directory =>
        {
            File.WriteAllText(Path.Combine(directory.FullName, KubernetesWriter.LegacyParametersFile),
                "# Non-secret AppHost parameters.\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-parameters\ndata:\n  TRACE_SAMPLE_RATIO: \"0.25\"\n");
            File.WriteAllText(Path.Combine(directory.FullName, KubernetesWriter.LegacySecretsFile), "DB_PASSWORD=kept\n");

            Assert.Equal(new Dictionary<string, string> { ["TRACE_SAMPLE_RATIO"] = "0.25", ["DB_PASSWORD"] = "kept" }, KubernetesWriter.ReadValues(directory.FullName));

            KubernetesWriter.Write(Model(), new Dictionary<string, string> { ["DB_PASSWORD"] = "kept", ["ADMIN_EMAIL"] = "a@b" }, Options, directory.FullName);
            Assert.False(File.Exists(Path.Combine(directory.FullName, KubernetesWriter.LegacyParametersFile)));
        });
    }

    [Fact]
    public void A_service_with_volumes_is_one_stateful_set_with_a_headless_service_and_its_files_in_a_config_map()
    {
        var database = Database("users-db");

        var objects = Objects(database);

        Assert.Equal(["ConfigMap", "StatefulSet", "Service"], objects.Select(o => o.Kind));
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

    /// <summary>Runs a writer test in an output directory of its own, removed afterwards.</summary>
    private static void InOutputDirectory(Action<DirectoryInfo> test)
    {
        var directory = Directory.CreateTempSubdirectory("shop-k8s-unit-");
        try
        {
            test(directory);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
