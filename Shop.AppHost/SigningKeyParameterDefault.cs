using System.Security.Cryptography;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Publishing;

namespace Shop.AppHost;

/// <summary>
/// Generates an ES256 (P-256) private key, base64 PKCS#8, for development. Persisted to the AppHost's
/// user secrets so tokens stay valid across restarts; deployments must supply their own.
/// </summary>
public sealed class SigningKeyParameterDefault : ParameterDefault
{
    public override string GetDefaultValue()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Convert.ToBase64String(key.ExportPkcs8PrivateKey());
    }

    // Nothing in the manifest: a deployment's key is never generated into a published file.
    public override void WriteToManifest(ManifestPublishingContext context)
    {
    }
}
