using System.Security.Cryptography;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace Shop.Publishing;

/// <summary>
/// Values for the deployment's parameters, in order of precedence: configuration
/// (<c>Parameters:&lt;name&gt;</c>, e.g. <c>--Parameters:admin-password=…</c>), the value already in the
/// output directory (so publishing again keeps the database passwords the volumes were created with),
/// the parameter's own default (generated passwords, the signing key) and, for a secret without any,
/// a fresh random value. Aspire's interactive parameter prompt is not used, so publishing never waits. A value
/// the deployment cannot carry (<see cref="PublishConventions.UnusableValue"/>) fails the publish, naming what it can be.
/// </summary>
public static class ParameterValues
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static Dictionary<string, string> Resolve(
        IReadOnlyDictionary<ParameterResource, DeployParameter> parameters,
        IConfiguration configuration,
        IReadOnlyDictionary<string, string> existing,
        Action<string> warn,
        Func<ParameterResource, string, string?> unusable)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (resource, parameter) in parameters.OrderBy(p => p.Value.Name, StringComparer.Ordinal))
        {
            var value = configuration[ConfigurationKey(resource)] is { } configured ? configured
                : existing.TryGetValue(parameter.Key, out var kept) ? kept
                : DefaultValue(resource) ?? (parameter.Secret ? RandomNumberGenerator.GetString(Alphabet, 32) : null);
            if (value is null)
            {
                warn($"Parameter '{parameter.Name}' has no value: set {parameter.Key} in the output, or pass --{ConfigurationKey(resource)}=<value>.");
                value = "";
            }
            if (unusable(resource, value) is { } reason)
            {
                // Refused before anything is written: the output keeps the values it had.
                throw new InvalidOperationException(
                    $"Parameter '{parameter.Name}' ({parameter.Key}) cannot have the value given (--{ConfigurationKey(resource)}, or {parameter.Key} in the output): {reason}.");
            }
            values[parameter.Key] = value;
            values[parameter.UriKey] = Uri.EscapeDataString(value);
        }
        return values;
    }

    /// <summary>Where Aspire reads a parameter's value from.</summary>
    public static string ConfigurationKey(ParameterResource parameter) => $"Parameters:{parameter.Name}";

    private static string? DefaultValue(ParameterResource parameter)
    {
        if (parameter.Default is { } generator)
        {
            return generator.GetDefaultValue();
        }
        try
        {
            // A parameter declared with a fixed value (AddParameter(name, "value")) only exposes it here.
#pragma warning disable CS0618 // Value is obsolete in favour of GetValueAsync, which waits for the interactive prompt.
            return parameter.Value;
#pragma warning restore CS0618
        }
        catch (MissingParameterValueException)
        {
            return null;
        }
    }
}
