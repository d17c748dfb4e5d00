using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>The access-token rules (README, Auth model), checked by every service that validates tokens.</summary>
public sealed class TokenTests(ShopApp shop)
{
    public static TheoryData<string> ProtectedRoutes => ["/users/me", "/orders/", "/inventory/"];

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public async Task A_genuine_token_is_accepted(string path)
    {
        var (client, _) = await shop.NewUserAsync();
        await (await client.GetAsync(path)).ExpectAsync(200);
    }

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public async Task Forged_tokens_are_rejected_with_401(string path)
    {
        var (_, user) = await shop.NewUserAsync();
        var accepted = new List<string>();
        foreach (var (name, token) in await ForgeriesAsync(user))
        {
            var response = await shop.Client(token).GetAsync(path);
            if (response.StatusCode != System.Net.HttpStatusCode.Unauthorized || !response.Headers.WwwAuthenticate.ToString().Contains("Bearer"))
            {
                accepted.Add($"{name}: {(int)response.StatusCode}");
            }
        }
        // Every forgery that got through, not just the first.
        Assert.True(accepted.Count == 0, $"{path} did not answer 401 with a Bearer challenge to: {string.Join("; ", accepted)}");
    }

    private async Task<List<(string Name, string Token)>> ForgeriesAsync(TestUser user)
    {
        // Not disposed: the token handler caches signature providers per key id.
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(shop.ParameterValue("jwt-signing-key")), out _);
        var jwks = await (await shop.Client().GetAsync("/users/.well-known/jwks.json")).JsonAsync();
        var kid = jwks.GetProperty("keys")[0].GetProperty("kid").GetString();
        var realKey = new ECDsaSecurityKey(key) { KeyId = kid };

        // The genuine token's stamp and session, so that a forgery fails for the one reason it is about.
        var genuine = new JsonWebToken(user.Token);
        var stamp = genuine.GetPayloadValue<int>("sst").ToString();
        var session = genuine.GetPayloadValue<string>("sid");

        string Sign(SecurityKey signingKey, string algorithm, string issuer = "shop-users", string audience = "shop", DateTime? expires = null, string role = "admin", string type = "at+jwt")
        {
            var now = DateTime.UtcNow;
            return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
            {
                TokenType = type,
                Issuer = issuer,
                Audience = audience,
                IssuedAt = (expires ?? now.AddMinutes(30)).AddMinutes(-60),
                NotBefore = (expires ?? now.AddMinutes(30)).AddMinutes(-60),
                Expires = expires ?? now.AddMinutes(30),
                Subject = new ClaimsIdentity([new Claim("sub", user.Id.ToString()), new Claim("role", role), new Claim("email", user.Email), new Claim("name", "x"), new Claim("sst", stamp, ClaimValueTypes.Integer32), new Claim("sid", session)]),
                SigningCredentials = new SigningCredentials(signingKey, algorithm),
            });
        }

        static string B64(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var parts = user.Token.Split('.');
        var tamperedPayload = B64(Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"role\":\"user\"", "\"role\":\"admin\""));

        // The genuine token's payload (its own sub, sst, sid, exp …) under a header that differs from the genuine one
        // only in alg, so each of these fails for its algorithm alone and not for a missing claim or a wrong typ.
        string Header(string alg) => B64($$"""{"alg":"{{alg}}","kid":"{{kid}}","typ":"at+jwt"}""");
        var unsigned = Header("none") + "." + parts[1] + ".";

        // HS256 keyed with the issuer's public key, which anyone can fetch: the classic algorithm-confusion attack
        // (a verifier that takes the algorithm from the token would use the key's bytes as the HMAC secret). The
        // key's bytes in each form an attacker would try.
        var jwk = jwks.GetProperty("keys")[0];
        using var publicKey = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("x").GetString()), Y = Base64UrlEncoder.DecodeBytes(jwk.GetProperty("y").GetString()) },
        });
        var publicKeyForms = new (string Name, byte[] Bytes)[]
        {
            ("SubjectPublicKeyInfo", publicKey.ExportSubjectPublicKeyInfo()),
            ("PEM", Encoding.UTF8.GetBytes(publicKey.ExportSubjectPublicKeyInfoPem())),
            ("JWK x||y", [.. publicKey.ExportParameters(false).Q.X!, .. publicKey.ExportParameters(false).Q.Y!]),
            ("JWK JSON", Encoding.UTF8.GetBytes(jwk.GetRawText())),
        };
        string Hs256(byte[] secret)
        {
            var signed = Header("HS256") + "." + parts[1];
            return signed + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(signed)));
        }

        return
        [
            ("alg:none", unsigned),
            ("alg:none with the genuine signature", unsigned + parts[2]),
            ("alg:None", Header("None") + "." + parts[1] + "."),
            .. publicKeyForms.Select(form => ($"HS256 keyed with the public key's {form.Name}", Hs256(form.Bytes))),
            ("tampered payload", parts[0] + "." + tamperedPayload + "." + parts[2]),
            ("expired", Sign(realKey, SecurityAlgorithms.EcdsaSha256, expires: DateTime.UtcNow.AddMinutes(-5))),
            ("wrong audience", Sign(realKey, SecurityAlgorithms.EcdsaSha256, audience: "someone-else")),
            ("wrong issuer", Sign(realKey, SecurityAlgorithms.EcdsaSha256, issuer: "evil")),
            ("foreign key", Sign(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = kid }, SecurityAlgorithms.EcdsaSha256)),
            ("garbage", "not.a.jwt"),
            // RFC 8725 §3.11: a token of another type (an ID token, say) signed by the same key is not an access token.
            ("typ JWT instead of at+jwt", Sign(realKey, SecurityAlgorithms.EcdsaSha256, role: "user", type: "JWT")),
        ];
    }
}
