using Aspire.Hosting.ApplicationModel;
using Shop.Publishing;

namespace Shop.AppHost.Infrastructure;

/// <summary>
/// One service's database: the resource (its connection string is the superuser's, for the AppHost and
/// the tests), the connection strings of its two roles (<see cref="DatabaseRoles"/>), and the most
/// connections one service process may hold to it (<see cref="DatabaseConnectionBudget"/>).
/// </summary>
public sealed record ServiceDatabase(
    IResourceBuilder<IResourceWithConnectionString> Resource,
    string ConnectionName,
    ReferenceExpression OwnerConnectionString,
    ReferenceExpression AppConnectionString,
    int MaxPoolSize);

public static class ServiceDatabaseExtensions
{
    /// <summary>
    /// The argument that makes a service image apply its migrations and exit, and the suffix of the
    /// connection string it does that with (<c>ConnectionStrings:&lt;db&gt;-migrations</c>). The services
    /// read the same names (Shop.ServiceDefaults, ShopDatabase.cs).
    /// </summary>
    public const string MigrateArgument = "--migrate";
    public const string MigrationConnectionSuffix = "-migrations";

    /// <summary>The deployment step that runs the migrations before the service starts.</summary>
    public const string MigrationStep = "migrate";

    /// <summary>
    /// The service serves with the application role (<c>ConnectionStrings:&lt;db&gt;</c>). Its migrations run
    /// as the owner: in run mode the service itself does that at start with a second connection string;
    /// in a deployment a step of its own image does (<see cref="MigrateArgument"/>) before the service
    /// starts, so the running service never holds the owner's password.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithServiceDatabase(this IResourceBuilder<ProjectResource> project, ServiceDatabase database)
    {
        project.WithEnvironment($"ConnectionStrings__{database.ConnectionName}", database.AppConnectionString)
            .WithEnvironment("Database__MaxPoolSize", database.MaxPoolSize.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithReferenceRelationship(database.Resource.Resource)
            .WaitFor(database.Resource);
        var migrations = $"ConnectionStrings__{database.ConnectionName}{MigrationConnectionSuffix}";
        return project.ApplicationBuilder.ExecutionContext.IsPublishMode
            ? project.WithDeploymentStep(MigrationStep, [MigrateArgument], new Dictionary<string, object> { [migrations] = database.OwnerConnectionString })
            : project.WithEnvironment(migrations, database.OwnerConnectionString);
    }
}
