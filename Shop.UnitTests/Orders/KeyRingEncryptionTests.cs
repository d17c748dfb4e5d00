using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Shop.Orders.Services.Webhooks;

namespace Shop.UnitTests.Orders;

public sealed class KeyRingEncryptionTests
{
    private static readonly XElement Key = XElement.Parse("<masterKey><value>c2VjcmV0IGtleSBtYXRlcmlhbA==</value></masterKey>");

    [Fact]
    public void A_key_encrypted_with_the_key_ring_key_decrypts_to_the_same_xml_and_is_not_readable_before()
    {
        var kek = KeyRingEncryption.DeriveKey("a-key-ring-key-of-at-least-32-characters");

        var encrypted = new KeyRingXmlEncryptor(kek).Encrypt(Key);

        Assert.DoesNotContain("c2VjcmV0", encrypted.EncryptedElement.ToString());
        Assert.Equal(typeof(KeyRingXmlDecryptor), encrypted.DecryptorType);
        Assert.Equal(Key.ToString(), Decryptor(kek).Decrypt(encrypted.EncryptedElement).ToString());
    }

    [Fact]
    public void Another_key_ring_key_cannot_decrypt_it()
    {
        var encrypted = new KeyRingXmlEncryptor(KeyRingEncryption.DeriveKey("a-key-ring-key-of-at-least-32-characters")).Encrypt(Key);

        var other = KeyRingEncryption.DeriveKey("another-key-ring-key-of-32-characters-or-more");

        Assert.ThrowsAny<CryptographicException>(() => Decryptor(other).Decrypt(encrypted.EncryptedElement));
    }

    [Fact]
    public void Each_encryption_uses_a_fresh_nonce()
    {
        var encryptor = new KeyRingXmlEncryptor(KeyRingEncryption.DeriveKey("a-key-ring-key-of-at-least-32-characters"));

        Assert.NotEqual(encryptor.Encrypt(Key).EncryptedElement.ToString(), encryptor.Encrypt(Key).EncryptedElement.ToString());
    }

    private static KeyRingXmlDecryptor Decryptor(byte[] kek) =>
        new(new ServiceCollection().AddSingleton(new KeyRingEncryption.KeyEncryptionKey(kek)).BuildServiceProvider());
}
