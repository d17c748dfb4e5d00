using System.Security.Cryptography;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.Tokens;

namespace Shop.ServiceDefaults;

/// <summary>
/// The crypto provider factory of the services' token validation: it remembers which signatures verified, so a
/// token sent again costs a SHA-256 and a lookup instead of an ES256 verification. A shopper sends many requests
/// with one token, and the ES256 check was more than half of a catalogue read's CPU in Inventory (0.39 → 0.16 ms
/// per warm read without it; docs/performance.md, "Round 4").
/// <para>
/// Only the signature check is remembered, and only its successes. Everything else JwtBearer checks still runs on
/// every request: that the token names a key Users still publishes (a key dropped from the JWKS fails before any
/// signature is looked at), the algorithm, <c>typ</c>, issuer, audience and lifetime, and then the security stamp.
/// An entry is keyed by the key object and the exact signed bytes and signature, so a different key, a refreshed
/// JWKS (new key objects) or a single changed byte means a full verification. A forged token is verified in full
/// every time, as before, and never takes a place in the cache.
/// </para>
/// </summary>
public sealed class VerifiedSignatureCache : CryptoProviderFactory, IDisposable
{
    /// <summary>Enough for every token in use within <see cref="EntryLifetime"/>; beyond it, a token is verified again.</summary>
    public const int Entries = 20_000;

    /// <summary>How long a verified signature is remembered; the token's own lifetime is checked separately, on every request.</summary>
    public static readonly TimeSpan EntryLifetime = TimeSpan.FromMinutes(15);

    private readonly MemoryCache _verified = new(new MemoryCacheOptions { SizeLimit = Entries });
    private readonly MemoryCacheEntryOptions _entry = new() { AbsoluteExpirationRelativeToNow = EntryLifetime, Size = 1 };

    /// <summary>Full verifications done by this factory (misses); tests read it to see the cache at work.</summary>
    public long Verifications => Interlocked.Read(ref _verifications);
    private long _verifications;

    // The two-argument overload calls this one, so wrapping here wraps every verifying provider exactly once.
    public override SignatureProvider CreateForVerifying(SecurityKey key, string algorithm, bool cacheProvider) =>
        new RememberingVerifier(base.CreateForVerifying(key, algorithm, cacheProvider), this);

    public override void ReleaseSignatureProvider(SignatureProvider signatureProvider) =>
        base.ReleaseSignatureProvider(signatureProvider is RememberingVerifier remembering ? remembering.Inner : signatureProvider);

    public void Dispose() => _verified.Dispose();

    private bool Verify(SignatureProvider inner, ReadOnlySpan<byte> input, ReadOnlySpan<byte> signature, Func<bool> verify)
    {
        // SHA-256 of the signed bytes and of the signature: 64 bytes per entry whatever the token's size.
        Span<byte> digest = stackalloc byte[2 * SHA256.HashSizeInBytes];
        SHA256.HashData(input, digest);
        SHA256.HashData(signature, digest[SHA256.HashSizeInBytes..]);
        var entry = (inner.Key, inner.Algorithm, Convert.ToBase64String(digest));
        if (_verified.TryGetValue(entry, out _))
        {
            return true;
        }
        Interlocked.Increment(ref _verifications);
        if (!verify())
        {
            return false;
        }
        _verified.Set(entry, true, _entry);
        return true;
    }

    private sealed class RememberingVerifier(SignatureProvider inner, VerifiedSignatureCache cache) : SignatureProvider(inner.Key, inner.Algorithm)
    {
        public SignatureProvider Inner => inner;

        public override byte[] Sign(byte[] input) =>
            throw new NotSupportedException("This provider only verifies signatures.");

        public override bool Verify(byte[] input, byte[] signature) =>
            cache.Verify(inner, input, signature, () => inner.Verify(input, signature));

        public override bool Verify(byte[] input, int inputOffset, int inputLength, byte[] signature, int signatureOffset, int signatureLength) =>
            cache.Verify(inner, input.AsSpan(inputOffset, inputLength), signature.AsSpan(signatureOffset, signatureLength),
                () => inner.Verify(input, inputOffset, inputLength, signature, signatureOffset, signatureLength));

        // The inner provider is released by the factory (ReleaseSignatureProvider above).
        protected override void Dispose(bool disposing)
        {
        }
    }
}
