using Shop.Publishing;
using static Shop.UnitTests.Publishing.Deployments;

namespace Shop.UnitTests.Publishing;

/// <summary>The compose services the writer makes from the deployment model, and how they serialize.</summary>
public sealed class ComposeServiceTests
{
    private const string Output = "/srv/shop/compose";

    [Fact]
    public void A_project_is_the_shops_image_on_the_network_restarted_and_probed_over_http()
    {
        var users = Project("users", ports: [Http(8080)], environment: [new("Admin__Email", Parameter(Plain)), new("Greeting", Literal("costs $5"))]);

        var service = ComposeWriter.Service(users, Model(users), Options, Output);

        Assert.Equal("${SHOP_REGISTRY:-shop}/users:${SHOP_TAG:-latest}", service.Image);
        Assert.Equal("${ADMIN_EMAIL:?ADMIN_EMAIL is not set in .env}", service.Environment!["Admin__Email"]);
        Assert.Equal("costs $$5", service.Environment["Greeting"]);
        Assert.Null(service.Ports); // not published
        Assert.Equal(["8080"], service.Expose);
        Assert.Equal(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"], service.Healthcheck!.Test);
        Assert.Equal([ComposeWriter.Network], service.Networks);
        Assert.Equal("unless-stopped", service.Restart);
    }

    /// <summary>An optional parameter is <c>${KEY:-}</c>: empty unless set in .env, where <c>${KEY:?…}</c> refuses an empty value.</summary>
    [Fact]
    public void An_optional_parameter_is_empty_unless_set_in_env()
    {
        var optional = new DeployParameter("jwt-previous-signing-key", "JWT_PREVIOUS_SIGNING_KEY", Secret: true) { Optional = true };
        var users = Project("users", environment: [new("Jwt__PreviousSigningKey", Parameter(optional))]);

        Assert.Equal("${JWT_PREVIOUS_SIGNING_KEY:-}", ComposeWriter.Service(users, Model(users), Options, Output).Environment!["Jwt__PreviousSigningKey"]);
    }

    [Fact]
    public void A_published_port_is_mapped_on_the_host()
    {
        var gateway = Project("gateway", ports: [Http(8080, published: 80)]);

        Assert.Equal(["80:8080"], ComposeWriter.Service(gateway, Model(gateway), Options, Output).Ports);
    }

    [Fact]
    public void A_step_is_a_one_shot_service_its_service_waits_to_complete()
    {
        var step = new DeployStep("migrate", [Literal("--migrate")], [new("ConnectionStrings__owner", ConnectionString)], ["users-db"]);
        var users = Project("users", ports: [Http(8080)], dependsOn: ["users-db"], steps: [step]);
        var model = Model(users, Database("users-db"));

        var file = ComposeWriter.Compose(model, Options, Output);

        var migrate = file.Services["users-migrate"];
        Assert.Equal(["--migrate"], migrate.Command);
        Assert.Equal("Host=db;Password=${DB_PASSWORD:?DB_PASSWORD is not set in .env}", migrate.Environment!["ConnectionStrings__owner"]);
        Assert.Equal("service_healthy", migrate.DependsOn!["users-db"].Condition);
        Assert.Null(migrate.Restart);
        Assert.Equal("service_completed_successfully", file.Services["users"].DependsOn!["users-migrate"].Condition);
        Assert.Equal(["users-db-data"], file.Volumes!.Keys);
    }

    [Fact]
    public void The_file_uses_composes_own_key_names_and_leaves_out_what_is_not_set()
    {
        var users = Project("users", ports: [Http(8080)], dependsOn: ["users-db"]);

        var yaml = YamlOutput.Serialize(ComposeWriter.Compose(Model(users, Database("users-db")), Options, Output));

        Assert.Contains("    depends_on:\n      users-db:\n        condition: service_healthy\n", yaml);
        Assert.Contains("      start_period: 20s\n", yaml);
        Assert.Contains("volumes:\n  users-db-data: {}\n", yaml);
        Assert.Contains("    user: \"70:70\"\n    read_only: true\n    tmpfs:\n    - /tmp\n    - /var/run/postgresql\n", yaml);
        Assert.Contains("    cap_drop:\n    - ALL\n    security_opt:\n    - no-new-privileges:true\n    mem_limit: 512m\n", yaml);
        Assert.DoesNotContain("build:", yaml);
        Assert.DoesNotContain(": null", yaml);
    }
}
