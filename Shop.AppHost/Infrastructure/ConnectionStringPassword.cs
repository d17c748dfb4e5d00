using System.Data.Common;
using System.Text;
using Aspire.Hosting.ApplicationModel;

namespace Shop.AppHost.Infrastructure;

/// <summary>
/// <c>Password=…</c> for a run-mode connection string, quoted as <see cref="DbConnectionStringBuilder"/> quotes a value
/// (which Npgsql parses), so any character of a hand-set password reaches Npgsql whole: a <c>'</c> or <c>"</c>, a
/// <c>;</c>, a <c>=</c>, spaces at either end. A deployment's connection string is written before its password is
/// known, so it cannot be quoted this way (see <see cref="DatabaseRoles"/>).
/// </summary>
public sealed class ConnectionStringPassword(ParameterResource password) : IValueProvider, IManifestExpressionProvider, IValueWithReferences
{
    public string ValueExpression => password.ValueExpression;

    public IEnumerable<object> References => [password];

    public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default)
    {
        var pair = new StringBuilder();
        DbConnectionStringBuilder.AppendKeyValuePair(pair, "Password", await password.GetValueAsync(cancellationToken) ?? "");
        return pair.ToString();
    }
}
