using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;
using Shop.ServiceDefaults;

namespace Shop.Orders.Services.Webhooks;

/// <summary>
/// The Data Protection key ring lives in the Orders database next to the webhook secrets it encrypts; left
/// in clear, a backup of that database would hold both the lock and its key. Each key's XML is therefore
/// encrypted (AES-256-GCM) with a key-encryption key derived from the secret parameter
/// <c>orders-keyring-key</c> (configuration <c>DataProtection:KeyRingKey</c>), which never enters the database.
/// </summary>
public static class KeyRingEncryption
{
    /// <summary>
    /// Keys written before this existed stay readable (they are not encrypted, so no decryptor runs), and
    /// are retired by Data Protection's normal rotation; new keys are encrypted.
    /// </summary>
    public static IDataProtectionBuilder ProtectKeysWithKeyRingKey(this IDataProtectionBuilder builder, IHostApplicationBuilder host)
    {
        host.AddStartupSettings<KeyRingOptions>("DataProtection")
            .Validate(o => o.KeyRingKey is { Length: >= 32 } secret && !string.IsNullOrWhiteSpace(secret),
                "DataProtection:KeyRingKey is missing or shorter than 32 characters. It encrypts the Data Protection key ring " +
                "in the Orders database; set the AppHost parameter 'orders-keyring-key' (the AppHost generates one in run mode).");
        // Read now: the key ring's encryptor is built with it.
        var key = DeriveKey(host.GetStartupSettings<KeyRingOptions>("DataProtection").KeyRingKey!);
        builder.Services.AddSingleton(new KeyEncryptionKey(key));
        builder.Services.Configure<KeyManagementOptions>(o => o.XmlEncryptor = new KeyRingXmlEncryptor(key));
        return builder;
    }

    internal static byte[] DeriveKey(string secret) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: "Shop.Orders Data Protection key ring v1"u8.ToArray());

    /// <summary>The derived key, for the decryptor Data Protection creates from the service provider.</summary>
    internal sealed record KeyEncryptionKey(byte[] Value);

    internal const int NonceSize = 12;
    internal const int TagSize = 16;
}

/// <summary>What Orders reads of section <c>DataProtection</c>.</summary>
public sealed class KeyRingOptions
{
    /// <summary>The secret the key ring's key-encryption key is derived from (the AppHost's <c>orders-keyring-key</c>).</summary>
    public string? KeyRingKey { get; set; }
}

/// <summary>Encrypts one key's XML: <c>&lt;encryptedKey v="1"&gt;</c> holding nonce, tag and ciphertext in base64.</summary>
internal sealed class KeyRingXmlEncryptor(byte[] key) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(KeyRingEncryption.NonceSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[KeyRingEncryption.TagSize];
        using (var aes = new AesGcm(key, KeyRingEncryption.TagSize))
        {
            aes.Encrypt(nonce, plaintext, ciphertext, tag);
        }
        CryptographicOperations.ZeroMemory(plaintext);
        var element = new XElement("encryptedKey",
            new XAttribute("v", "1"),
            new XElement("nonce", Convert.ToBase64String(nonce)),
            new XElement("tag", Convert.ToBase64String(tag)),
            new XElement("value", Convert.ToBase64String(ciphertext)));
        return new EncryptedXmlInfo(element, typeof(KeyRingXmlDecryptor));
    }
}

/// <summary>Data Protection creates this by type when it reads an encrypted key (hence the service-provider constructor).</summary>
internal sealed class KeyRingXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var key = services.GetRequiredService<KeyRingEncryption.KeyEncryptionKey>().Value;
        var nonce = Convert.FromBase64String((string)encryptedElement.Element("nonce")!);
        var tag = Convert.FromBase64String((string)encryptedElement.Element("tag")!);
        var ciphertext = Convert.FromBase64String((string)encryptedElement.Element("value")!);
        var plaintext = new byte[ciphertext.Length];
        using (var aes = new AesGcm(key, KeyRingEncryption.TagSize))
        {
            // A wrong orders-keyring-key fails here (authentication tag mismatch) rather than yielding garbage.
            aes.Decrypt(nonce, ciphertext, tag, plaintext);
        }
        try
        {
            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}
