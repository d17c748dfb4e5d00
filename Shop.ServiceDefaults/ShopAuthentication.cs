using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The Shop's auth model in one place. Users signs ES256 tokens; every service validates them with
/// the public keys Users publishes (JWKS, fetched through service discovery), pinned to ES256, issuer
/// <c>shop-users</c>, audience <c>shop</c>. Service-to-service calls (internal routes) carry the
/// <c>X-Service-Key</c> secret instead: a user's token, even an admin's, never satisfies them.
/// A token's signature is not enough: its security stamp must still be the account's (see <see cref="SecurityStamps"/>).
/// </summary>
public static class ShopAuthentication
{
    public const string Issuer = "shop-users";
    public const string Audience = "shop";
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;
    public const string AdminPolicy = "admin";
    public const string ServicePolicy = "service";
    public const string ServiceScheme = "ServiceKey";
    public const string ServiceKeyHeader = "X-Service-Key";
    public const string RoleClaim = "role";
    public const string AccessTokenType = "at+jwt";
    public const string JwksPath = "/users/.well-known/jwks.json";
    public const string JwksHttpClient = "shop-jwks";

    /// <param name="localSigningKeys">Users passes its own public keys (current and, during a rotation, previous); everyone else fetches the JWKS.</param>
    public static TBuilder AddShopAuthentication<TBuilder>(this TBuilder builder, IReadOnlyList<SecurityKey>? localSigningKeys = null)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        builder.AddShopTokenValidation(localSigningKeys);
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddScheme<ServiceKeyOptions, ServiceKeyHandler>(ServiceScheme, o => o.ApiKey = builder.Configuration["ServiceAuth:ApiKey"]);
        services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme,
            o => o.Events = new JwtBearerEvents { OnTokenValidated = SecurityStamps.OnTokenValidatedAsync });

        services.AddSingleton<SecurityStamps>();
        services.AddSingleton<SecurityAudit>();
        if (localSigningKeys is null)
        {
            builder.AddInternalServiceClient<UsersAccountClient>("users");
            services.AddTransient<IAccountStampSource>(sp => sp.GetRequiredService<UsersAccountClient>());
        }

        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(new AuthorizationPolicyBuilder(JwtBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser().Build())
            .AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser().RequireRole("admin"))
            .AddPolicy(ServicePolicy, p => p.AddAuthenticationSchemes(ServiceScheme).RequireAuthenticatedUser().RequireRole("service"));
        return builder;
    }

    /// <summary>
    /// The token checks alone — ES256 signature by a key from the JWKS, <c>typ</c>, issuer, audience, lifetime —
    /// without the security stamp, which needs Redis and Users' internal API. The gateway uses this to know
    /// whose request it is (rate limits per user); the services add the stamp check on top. It is not made
    /// the default scheme, so nothing validates a token unless asked to.
    /// </summary>
    public static void AddShopTokenValidation(this IHostApplicationBuilder builder, IReadOnlyList<SecurityKey>? localSigningKeys = null)
    {
        builder.Services.AddAuthentication()
            .AddJwtBearer(o =>
            {
                o.MapInboundClaims = false;
                o.RequireHttpsMetadata = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = Issuer,
                    ValidAudience = Audience,
                    ValidAlgorithms = [Algorithm],
                    ValidateIssuerSigningKey = true,
                    RequireSignedTokens = true,
                    RequireExpirationTime = true,
                    ValidateLifetime = true,
                    // RFC 8725 §3.11: only access tokens (typ at+jwt) are accepted as access tokens.
                    ValidTypes = [AccessTokenType],
                    ClockSkew = builder.Configuration.GetValue("Jwt:ClockSkew", TimeSpan.FromSeconds(30)),
                    NameClaimType = "name",
                    RoleClaimType = RoleClaim,
                    IssuerSigningKeys = localSigningKeys,
                };
            });
        if (localSigningKeys is null)
        {
            builder.Services.AddHttpClient(JwksHttpClient, c =>
            {
                c.BaseAddress = new Uri(builder.Configuration["Jwt:JwksBaseAddress"] ?? "http://users");
                c.Timeout = TimeSpan.FromSeconds(10);
            });
            builder.Services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>, JwksConfiguration>();
        }
    }

    /// <summary>The caller's user id (<c>sub</c>), or null for anonymous/service callers.</summary>
    public static int? GetUserId(this ClaimsPrincipal principal) =>
        int.TryParse(principal.FindFirstValue("sub"), out var id) ? id : null;

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.IsInRole("admin");

    /// <summary>The caller's sign-in session (<c>sid</c>), or null for service callers.</summary>
    public static Guid? GetSessionId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(SecurityStamps.SessionClaim), out var id) ? id : null;

    /// <summary>Points JwtBearer at the JWKS Users publishes, refreshed when an unknown key id shows up.</summary>
    private sealed class JwksConfiguration(IHttpClientFactory httpClientFactory) : IPostConfigureOptions<JwtBearerOptions>
    {
        public void PostConfigure(string? name, JwtBearerOptions options)
        {
            if (name != JwtBearerDefaults.AuthenticationScheme)
            {
                return;
            }
            var http = httpClientFactory.CreateClient(JwksHttpClient);
            var address = new Uri(http.BaseAddress!, JwksPath).ToString();
            options.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                address, new JwksRetriever(), new HttpDocumentRetriever(http) { RequireHttps = false })
            {
                AutomaticRefreshInterval = TimeSpan.FromHours(1),
                RefreshInterval = TimeSpan.FromSeconds(30),
            };
        }
    }

    private sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var keySet = new JsonWebKeySet(await retriever.GetDocumentAsync(address, cancel));
            var configuration = new OpenIdConnectConfiguration { Issuer = Issuer, JsonWebKeySet = keySet };
            foreach (var key in keySet.GetSigningKeys())
            {
                configuration.SigningKeys.Add(key);
            }
            return configuration;
        }
    }
}

public sealed class ServiceKeyOptions : AuthenticationSchemeOptions
{
    public string? ApiKey { get; set; }
}

/// <summary>Authenticates other Shop services by the shared service key (constant-time compare).</summary>
public sealed class ServiceKeyHandler(IOptionsMonitor<ServiceKeyOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<ServiceKeyOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = Request.Headers[ShopAuthentication.ServiceKeyHeader].ToString();
        if (string.IsNullOrEmpty(presented))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var expected = Options.ApiKey;
        if (string.IsNullOrEmpty(expected) ||
            !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected)))
        {
            return Task.FromResult(AuthenticateResult.Fail("Invalid service key."));
        }
        var identity = new ClaimsIdentity(
            [new Claim("name", "shop-service"), new Claim(ShopAuthentication.RoleClaim, "service")],
            Scheme.Name, "name", ShopAuthentication.RoleClaim);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }
}
