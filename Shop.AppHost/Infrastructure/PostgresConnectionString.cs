using System.Data.Common;
using System.Text;
using Aspire.Hosting.ApplicationModel;

namespace Shop.AppHost.Infrastructure;

/// <summary>
/// The Shop's own PostgreSQL connection strings: a server's superuser's in run mode (the roles step, the health checks)
/// and each database role's (<see cref="DatabaseRoles"/>) in either mode. Their passwords may be set by hand, so each
/// mode holds the password in the one form that keeps any character of it whole there.
/// </summary>
public static class PostgresConnectionString
{
    /// <summary>
    /// In run mode the password is the <c>Password=…</c> pair <see cref="DbConnectionStringBuilder"/> writes, quoted as it
    /// quotes any value (which Npgsql parses): a <c>'</c> or <c>"</c>, a <c>;</c>, a <c>=</c>, spaces at either end. A
    /// deployment's value is written before the password is known, so it holds it in single quotes: unquoted, Npgsql ended
    /// it at a <c>;</c>, trimmed spaces at either end and read a leading quote as the start of a quoted value. A <c>'</c> cannot
    /// be doubled inside them there (the value goes through <c>.env</c> or a Secret as it is), so the publish refuses a
    /// password with one (<see cref="Shop.Publishing.PublishConventions.UnusableValue(Shop.Publishing.DeploymentModel, Shop.Publishing.DeployParameter, string)"/>).
    /// </summary>
    /// <param name="deployment">For a deployment's files (publish mode), rather than for the processes this AppHost runs.</param>
    /// <param name="database">The database to connect to; none for a server's superuser.</param>
    public static ReferenceExpression Create(EndpointReference server, string user, ParameterResource password, bool deployment, string? database = null)
    {
        var builder = new ReferenceExpressionBuilder();
        builder.Append($"Host={server.Property(EndpointProperty.Host)};Port={server.Property(EndpointProperty.Port)};Username={user};");
        if (deployment)
        {
            builder.Append($"Password='{password}'");
        }
        else
        {
            builder.Append($"{new RunModePassword(password)}");
        }
        if (database is not null)
        {
            builder.Append($";Database={database}");
        }
        return builder.Build();
    }

    /// <summary>The whole <c>Password=…</c> pair, its value quoted once the password is known (run mode only).</summary>
    private sealed class RunModePassword(ParameterResource password) : IValueProvider, IManifestExpressionProvider, IValueWithReferences
    {
        // Says what the value is, the pair; no manifest is written from run mode.
        public string ValueExpression => $"Password={password.ValueExpression}";

        public IEnumerable<object> References => [password];

        public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default)
        {
            var pair = new StringBuilder();
            DbConnectionStringBuilder.AppendKeyValuePair(pair, "Password", await password.GetValueAsync(cancellationToken) ?? "");
            return pair.ToString();
        }
    }
}
