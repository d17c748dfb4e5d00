using Xunit;
using k8s;
using k8s.Models;
using Npgsql;
using Shop.Publishing;

namespace Shop.Tests.Deploy;

/// <summary>
/// A database role's password an operator chooses (<c>--Parameters:users-db-app-password=…</c>, or an edit of
/// <c>.env</c> / <c>secrets/…-password.env</c> then a publish) in both outputs, rendered as compose and kustomize render
/// them (no container started), in the connection strings of the service and of its migration step, parsed by
/// Npgsql as the services parse them.
/// </summary>
public sealed class DatabasePasswordTests : IDisposable
{
    /// <summary>
    /// A <c>;</c> (it ended an unquoted <c>Password=</c>), spaces at both ends (trimmed), a <c>=</c>, a <c>$</c> and a
    /// <c>"</c>; the owner's starts with a <c>"</c>, which opened a quoted value.
    /// </summary>
    private const string AppPassword = " pa;ss=w$rd\"x ", OwnerPassword = "\"own;er";

    private static readonly string[] Passwords = [$"--Parameters:users-db-app-password={AppPassword}", $"--Parameters:users-db-owner-password={OwnerPassword}"];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "shop-db-password-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Compose_services_and_their_migrations_take_a_database_password_with_a_semicolon_spaces_and_quotes()
    {
        var directory = Path.Combine(_root, "compose");
        await PublishOutput.RunAppHostAsync(["--operation", "publish", "--step", "publish-compose", "--output-path", directory, .. Passwords]);
        if (PublishOutput.ComposeConfig(directory) is not { } services)
        {
            Assert.Skip("docker-compose is not installed (./shop platform setup installs Debian's 1.29).");
            return;
        }
        Assert.Equal((AppPassword, OwnerPassword), (PublishOutput.ComposeEnvironment(services["users-db"])["SHOP_APP_PASSWORD"], PublishOutput.ComposeEnvironment(services["users-db"])["SHOP_OWNER_PASSWORD"]));

        AssertConnects("usersdb_app", AppPassword, PublishOutput.ComposeEnvironment(services["users"])["ConnectionStrings__usersdb"]);
        AssertConnects("usersdb_owner", OwnerPassword, PublishOutput.ComposeEnvironment(services["users-migrate"])["ConnectionStrings__usersdb-migrations"]);
    }

    [Fact]
    public async Task Kubernetes_services_and_their_migrations_take_a_database_password_with_a_semicolon_spaces_and_quotes()
    {
        var directory = Path.Combine(_root, "k8s");
        await PublishOutput.RunAppHostAsync(["--operation", "publish", "--step", "publish-k8s", "--output-path", directory, .. Passwords]);
        var (exitCode, rendered, error) = PublishOutput.Kustomize(directory);
        Assert.True(exitCode == 0, error);
        var objects = KubernetesYaml.LoadAllFromString(rendered);
        var pod = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "users").Spec.Template.Spec;

        AssertConnects("usersdb_app", AppPassword, PublishOutput.PodValue(pod.Containers.Single(), "ConnectionStrings__usersdb", objects.OfType<V1Secret>()));
        AssertConnects("usersdb_owner", OwnerPassword, PublishOutput.PodValue(pod.InitContainers.Single(c => c.Name == "migrate"), "ConnectionStrings__usersdb-migrations", objects.OfType<V1Secret>()));
    }

    /// <summary>
    /// The connection strings hold the password in single quotes, which cannot hold one (Npgsql reads <c>''</c> in them
    /// as one, and the value cannot be doubled on its way through <c>.env</c> or a Secret); a line break ends the value
    /// in <c>.env</c> and <c>secrets/*.env</c>, and the postgres image's initdb keeps a password's first line. The
    /// publish refuses both, naming the parameter and the characters it can hold.
    /// </summary>
    [Theory]
    [InlineData("compose", "it's", PublishConventions.QuotedValueCharacters)]
    [InlineData("k8s", "it's", PublishConventions.QuotedValueCharacters)]
    [InlineData("compose", "first\nsecond", PublishConventions.PrintableCharacters)]
    [InlineData("k8s", "first\nsecond", PublishConventions.PrintableCharacters)]
    public async Task A_database_password_with_a_single_quote_or_a_line_break_is_refused_at_publish_naming_the_parameter(string target, string password, string usable)
    {
        var directory = Path.Combine(_root, target);
        var (exitCode, output, error) = await PublishOutput.PublishAsync(target, directory, $"--Parameters:users-db-app-password={password}");

        Assert.True(exitCode != 0, "the refused publish exited 0");
        Assert.Contains("Parameter 'users-db-app-password' (USERS_DB_APP_PASSWORD) cannot have the value given", output + error);
        Assert.Contains(usable, output + error);
        Assert.False(File.Exists(Path.Combine(directory, target == "compose" ? ".env" : "secrets/users-db-app-password.env")), "the refused value was written");
    }

    private static void AssertConnects(string role, string password, string connectionString)
    {
        var parsed = new NpgsqlConnectionStringBuilder(connectionString);
        Assert.Equal((role, password, "usersdb"), (parsed.Username, parsed.Password, parsed.Database));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
