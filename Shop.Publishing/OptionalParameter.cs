using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Publishing;

namespace Shop.Publishing;

/// <summary>
/// The default of a parameter that is empty unless the operator sets it: a setting only a key rotation needs. A
/// deployment carries it empty (compose's <c>${KEY:-}</c>, <c>KEY=</c> in its Secret's file) rather than refusing
/// it as missing or generating a random value, and the services read an empty value as not set.
/// </summary>
public sealed class OptionalParameterDefault : ParameterDefault
{
    public override string GetDefaultValue() => "";

    public override void WriteToManifest(ManifestPublishingContext context) => context.Writer.WriteString("value", "");
}

public static class OptionalParameterExtensions
{
    /// <summary>A parameter that is empty unless set (<c>Parameters:&lt;name&gt;</c>, or its key in <c>.env</c> / <c>secrets/&lt;name&gt;.env</c>).</summary>
    public static IResourceBuilder<ParameterResource> AddOptionalParameter(this IDistributedApplicationBuilder builder, string name, bool secret = false) =>
        builder.AddParameter(name, new OptionalParameterDefault(), secret);

    public static bool IsOptional(this ParameterResource parameter) => parameter.Default is OptionalParameterDefault;
}
