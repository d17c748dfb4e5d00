using Microsoft.Extensions.Hosting;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Shop.ServiceDefaults;

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
    public const string ServiceCallerClaim = "service_caller";
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
            .AddScheme<ServiceKeyOptions, ServiceKeyHandler>(ServiceScheme, o =>
                o.Callers = builder.Configuration.GetSection("ServiceAuth:Callers").GetChildren()
                    .ToDictionary(c => c.Key, c => c.Get<string[]>() ?? [], StringComparer.Ordinal));
        services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme,
            o => o.Events = new JwtBearerEvents { OnTokenValidated = SecurityStamps.OnTokenValidatedAsync, OnChallenge = ChallengeAsync });

        services.AddSingleton<SecurityStamps>();
        services.AddRedisScripts(SecurityStamps.Scripts);
        services.AddSingleton<SecurityAudit>();
        if (localSigningKeys is null)
        {
            builder.AddInternalServiceClient<UsersAccountClient>("users");
            services.AddTransient<IAccountStampSource>(sp => sp.GetRequiredService<UsersAccountClient>());
        }

        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ForbiddenProblemHandler>();
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(new AuthorizationPolicyBuilder(JwtBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser().Build())
            .AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser().RequireRole("admin"));
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
        // A lone scheme would otherwise become the default, and the authentication middleware the framework
        // adds would check every request's token: in the gateway, an ES256 verification per proxied request
        // (docs/performance.md). The services name their default explicitly, so this changes nothing there.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        var verifiedSignatures = new VerifiedSignatureCache();
        // Read now rather than when the first request builds the token check: a mistake stops the start
        // instead of failing every authenticated request with a 500 (TokenValidationParameters refuses a negative skew).
        builder.AddStartupSettings<TokenCheckOptions>("Jwt")
            .Validate(o => o.ClockSkew >= TimeSpan.Zero, "Jwt:ClockSkew is negative; give how far the services' clocks may differ, zero or more (default 00:00:30).")
            // IdentityModel would throw at the first request instead (ArgumentOutOfRangeException, naming no setting).
            .Validate(o => o.SigningKeysRefreshInterval >= BaseConfigurationManager.MinimumAutomaticRefreshInterval,
                $"Jwt:SigningKeysRefreshInterval is below {BaseConfigurationManager.MinimumAutomaticRefreshInterval:c}, the shortest interval IdentityModel accepts between "
                + $"two fetches of Users' signing keys; give {BaseConfigurationManager.MinimumAutomaticRefreshInterval:c} or more (default {TokenCheckOptions.DefaultSigningKeysRefreshInterval:c}). "
                + "To drop a removed key at once, restart the services that check tokens (docs/deploy.md, \"Rotating the JWT signing key urgently\").")
            // A request that needs the keys waits for their fetch; HttpClient refuses a timeout of zero or less.
            .Validate(o => o.SigningKeysFetchTimeout > TimeSpan.Zero && o.SigningKeysFetchTimeout <= TokenCheckOptions.MaxSigningKeysFetchTimeout,
                $"Jwt:SigningKeysFetchTimeout is zero, negative or over {TokenCheckOptions.MaxSigningKeysFetchTimeout:c}; give how long a request that needs Users' signing keys "
                + $"waits for their fetch, more than zero and at most {TokenCheckOptions.MaxSigningKeysFetchTimeout:c} (default {TokenCheckOptions.DefaultSigningKeysFetchTimeout:c}).");
        var tokenCheck = builder.GetStartupSettings<TokenCheckOptions>("Jwt");
        var clockSkew = tokenCheck.ClockSkew;
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
                    ClockSkew = clockSkew,
                    NameClaimType = "name",
                    RoleClaimType = RoleClaim,
                    IssuerSigningKeys = localSigningKeys,
                    // A token sent again is not ES256-verified again; every other check still runs (see the type).
                    CryptoProviderFactory = verifiedSignatures,
                };
            });
        if (localSigningKeys is null)
        {
            // One attempt, bounded by Jwt:SigningKeysFetchTimeout: the fetch runs on the path of the request whose token needs
            // the keys, and while Users is down the defaults' retries (up to 30 s) would hold that request, again every 30 s.
            // A failed fetch costs little: known keys keep working, and a token with a new key is answered 503.
#pragma warning disable EXTEXP0001 // experimental, but the documented way to opt one client out of the defaults
            builder.Services.AddHttpClient(JwksHttpClient, c =>
            {
                c.BaseAddress = new Uri(builder.Configuration["Jwt:JwksBaseAddress"] ?? "http://users");
                c.Timeout = tokenCheck.SigningKeysFetchTimeout;
            }).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
            builder.Services.AddSingleton<SigningKeysReach>();
            builder.Services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>>(sp => new JwksConfiguration(
                sp.GetRequiredService<IHttpClientFactory>(), sp.GetRequiredService<SigningKeysReach>(), tokenCheck.SigningKeysRefreshInterval));
        }
    }

    /// <summary>
    /// Whether a token's check (<paramref name="failure"/>) failed only for want of its key while this process could not have
    /// Users' signing keys the last time it tried (no answer, or an answer that was not a key set): the token may well be
    /// valid. Any other failure is the token's own, also while the keys read before are in use: a forgery naming a key id
    /// that was read, an expired token.
    /// </summary>
    public static bool FailedForWantOfSigningKeys(this HttpContext http, Exception? failure) =>
        failure is SecurityTokenSignatureKeyNotFoundException && http.RequestServices.GetService<SigningKeysReach>() is { Unavailable: true };

    /// <summary>An internal route only the named services may call (each has its own key).</summary>
    public static TBuilder RequireServiceCallers<TBuilder>(this TBuilder endpoints, params string[] callers) where TBuilder : IEndpointConventionBuilder =>
        endpoints.RequireAuthorization(new AuthorizationPolicyBuilder(ServiceScheme).RequireAuthenticatedUser()
            .RequireRole("service").RequireClaim(ServiceCallerClaim, callers).Build());

    /// <summary>
    /// JwtBearer's 401 says only "Bearer error=invalid_token" in a header; the problem body says in
    /// words which of the token's problems it is and what to do about it.
    /// </summary>
    private static async Task ChallengeAsync(JwtBearerChallengeContext context)
    {
        if (context.HttpContext.FailedForWantOfSigningKeys(context.AuthenticateFailure))
        {
            // No key to check the signature with because Users could not be asked for them (a service started while Users is
            // away) or what answered sent no key set: the token may well be valid, so this is the service's unavailability, not
            // the caller's fault (SigningKeysFetchTests). Told "sign in again", a shopper would, and be refused again.
            // The outage is Users', as the internal client names it, with the fetch's failure as its reason: one outage.
            var reach = context.HttpContext.RequestServices.GetRequiredService<SigningKeysReach>();
            throw new ServiceUnavailableException("users", reach.LastFailure, needed: "the access tokens' signing keys");
        }
        if (context.AuthenticateFailure is ServiceUnavailableException unavailable)
        {
            // The token's account could not be checked (SecurityStamps): say when to come back, not "sign in again".
            throw unavailable;
        }
        var (detail, description) = context.AuthenticateFailure switch
        {
            null => ("No access token was sent, and this request needs one. Sign in (POST /users/login) and send the token as 'Authorization: Bearer <token>'.", null),
            SecurityTokenExpiredException expired => ($"The access token expired at {expired.Expires:u}. Refresh it (POST /users/token/refresh) or sign in again.", "The token expired"),
            SecurityTokenInvalidSignatureException => ("The access token's signature is not valid: it was not signed by Shop's current keys or it was altered. Sign in again for a new token.", "The signature is invalid"),
            // SecurityStamps' own reasons are sentences already: the account changed, or the session was signed out.
            AuthenticationFailureException failure => (failure.Message, failure.Message),
            var other => ($"The access token is not a valid access token for this API ({Reason(other)}). Sign in again for a new token.", Reason(other)),
        };
        context.HandleResponse();
        var response = context.Response;
        response.StatusCode = StatusCodes.Status401Unauthorized;
        // RFC 6750 §3: no error code when no token was sent.
        response.Headers.WWWAuthenticate = description is null
            ? JwtBearerDefaults.AuthenticationScheme
            : $"{JwtBearerDefaults.AuthenticationScheme} error=\"invalid_token\", error_description=\"{description.Replace("\"", "'")}\"";
        await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context.HttpContext,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status401Unauthorized, Title = "Unauthorized", Detail = detail },
        });

        static string Reason(Exception e) => e switch
        {
            SecurityTokenInvalidIssuerException => "wrong issuer",
            SecurityTokenInvalidAudienceException => "wrong audience",
            SecurityTokenInvalidTypeException => "not an access token",
            SecurityTokenInvalidAlgorithmException => "algorithm not allowed",
            SecurityTokenNotYetValidException => "not valid yet",
            SecurityTokenMalformedException or ArgumentException => "not a well-formed JWT",
            _ => "it failed validation",
        };
    }

    /// <summary>A 403 with a body that names the role the route needs and the caller's.</summary>
    private sealed class ForbiddenProblemHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
        {
            if (!authorizeResult.Forbidden)
            {
                await _default.HandleAsync(next, context, policy, authorizeResult);
                return;
            }
            // Only the role requirements that failed: a service route may also fail on its caller claim.
            var failed = authorizeResult.AuthorizationFailure?.FailedRequirements ?? policy.Requirements;
            var required = failed.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).Distinct().ToList();
            var current = context.User.FindFirstValue(RoleClaim) ?? "none";
            var detail = required.Count > 0
                ? $"This needs the role '{string.Join("' or '", required)}'; your account has the role '{current}'. Sign in with such an account, or ask an admin to grant the role."
                : "Your account is not allowed to do this. Sign in with an account that is.";
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Forbidden", Detail = detail },
            });
        }
    }

    /// <summary>The caller's user id (<c>sub</c>), or null for anonymous/service callers.</summary>
    public static int? GetUserId(this ClaimsPrincipal principal) =>
        int.TryParse(principal.FindFirstValue("sub"), out var id) ? id : null;

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.IsInRole("admin");

    /// <summary>The caller's sign-in session (<c>sid</c>), or null for service callers.</summary>
    public static Guid? GetSessionId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(SecurityStamps.SessionClaim), out var id) ? id : null;

    /// <summary>
    /// Points JwtBearer at the JWKS Users publishes, fetched again when an unknown key id shows up (at most every 30 s) and
    /// every <paramref name="refreshInterval"/>, so a key Users stopped publishing stops working within that interval.
    /// </summary>
    private sealed class JwksConfiguration(IHttpClientFactory httpClientFactory, SigningKeysReach reach, TimeSpan refreshInterval) : IPostConfigureOptions<JwtBearerOptions>
    {
        public void PostConfigure(string? name, JwtBearerOptions options)
        {
            if (name != JwtBearerDefaults.AuthenticationScheme)
            {
                return;
            }
            // Held for the life of the process, which is safe: the factory's primary handler (SocketsHttpHandler since .NET 9)
            // closes a pooled connection after the handler lifetime, so a Users recreated at another address is looked up
            // again (SigningKeysFetchTests). A primary handler of our own would need a PooledConnectionLifetime.
            var http = httpClientFactory.CreateClient(JwksHttpClient);
            var address = new Uri(http.BaseAddress!, JwksPath).ToString();
            options.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                address, new JwksRetriever(reach), new SingleAttemptDocumentRetriever(http))
            {
                // Fetched on the path of the first request after the interval (the blocking switch, Directory.Build.props).
                AutomaticRefreshInterval = refreshInterval,
                RefreshInterval = TimeSpan.FromSeconds(30),
                // Users publishes exactly the keys it wants accepted. IdentityModel would otherwise check a token whose key
                // id is gone against the keys it fetched before (for an hour after they last verified a token): a key
                // removed after a leak would keep working after every fetch.
                UseLastKnownGoodConfiguration = false,
            };
        }
    }

    /// <summary>
    /// Whether the last attempt to have Users' signing keys failed: no answer, or an answer that held no key set. IdentityModel
    /// swallows that failure and then finds no key for the token, which JwtBearer reports as a bad signature; this tells the two apart.
    /// </summary>
    private sealed class SigningKeysReach(ILogger<SigningKeysReach> logger)
    {
        private volatile bool _unavailable;
        private volatile bool _unusable;
        private volatile Exception? _lastFailure;

        public bool Unavailable => _unavailable;

        /// <summary>Why the last fetch failed: the reason of the Users outage a token check then meets.</summary>
        public Exception? LastFailure => _lastFailure;

        /// <summary>A key set read from the answer: whatever was unreachable or unusable before is over.</summary>
        public void Read()
        {
            _unavailable = false;
            _unusable = false;
        }

        public void Failed(Exception e)
        {
            if (!_unavailable)
            {
                // Debug: this is an outage of Users, said once as a Warning by OutageLog with this reason when a request is
                // refused for it (UsersOutageNameTests), and in the gateway by its health checks; known keys keep working.
                logger.LogDebug("Could not fetch the access tokens' signing keys from Users ({Reason}); tokens signed with a key not seen yet are answered 503", e.Message);
            }
            _lastFailure = e;
            _unavailable = true;
        }

        /// <summary>
        /// Something answered the fetch, but not with a key set. To a shopper it is the same as Users away: keys read before
        /// keep working, a token with another key is answered 503. But whatever answered is up, so no health check says it,
        /// and it will not end by itself: said once, as a Warning of its own naming the setting, until a key set is read.
        /// </summary>
        public void Unusable(string address, Exception e)
        {
            if (!_unusable)
            {
                logger.LogWarning(e, "The answer from {Address} is not a key set ({Reason}); the keys read before, if any, stay in use and a token signed with "
                    + "another key is answered 503. Check that Jwt:JwksBaseAddress points at Users", address, e.Message);
            }
            // The reason the 503s' outage (OutageLog) gives: the raw parse error alone would not say what to fix.
            _lastFailure = new InvalidDataException($"the answer from {address} is not a key set ({e.Message}); check that Jwt:JwksBaseAddress points at Users", e);
            _unusable = true;
            _unavailable = true;
        }
    }

    /// <summary>
    /// The JWKS document in one GET, within the client's timeout. IdentityModel's HttpDocumentRetriever sends a second
    /// request after a 503 or 408 and ignores the request's cancellation; this one does neither.
    /// </summary>
    private sealed class SingleAttemptDocumentRetriever(HttpClient http) : IDocumentRetriever
    {
        public async Task<string> GetDocumentAsync(string address, CancellationToken cancel)
        {
            try
            {
                return await http.GetStringAsync(address, cancel);
            }
            catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
            {
                throw new TimeoutException($"Users did not send them within {http.Timeout:c} (Jwt:SigningKeysFetchTimeout)", e);
            }
        }
    }

    private sealed class JwksRetriever(SigningKeysReach reach) : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            string document;
            try
            {
                document = await retriever.GetDocumentAsync(address, cancel);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
            {
                reach.Failed(e);
                throw;
            }
            OpenIdConnectConfiguration configuration;
            try
            {
                configuration = KeySetIn(document);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                // Thrown on, so IdentityModel keeps the keys it read before rather than replace them with none.
                reach.Unusable(address, e);
                throw;
            }
            reach.Read();
            return configuration;
        }

        private static OpenIdConnectConfiguration KeySetIn(string document)
        {
            var keySet = new JsonWebKeySet(document);
            var configuration = new OpenIdConnectConfiguration { Issuer = Issuer, JsonWebKeySet = keySet };
            foreach (var key in keySet.GetSigningKeys())
            {
                configuration.SigningKeys.Add(key);
            }
            // Users always publishes its current key. JSON without one (another service's answer, a key set emptied, keys of
            // another type) would otherwise be taken as a key set that accepts no token at all.
            if (!configuration.SigningKeys.Any(k => CryptoProviderFactory.Default.IsSupportedAlgorithm(Algorithm, k)))
            {
                throw new InvalidDataException($"it holds no key that checks {Algorithm} signatures");
            }
            return configuration;
        }
    }
}

/// <summary>What every service and the gateway read of section <c>Jwt</c> to check an access token.</summary>
public sealed class TokenCheckOptions
{
    public static readonly TimeSpan DefaultSigningKeysRefreshInterval = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultSigningKeysFetchTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxSigningKeysFetchTimeout = TimeSpan.FromMinutes(1);

    /// <summary>How far the services' clocks may differ: a token still counts this long past its expiry.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a service (not Users, which holds its keys) fetches Users' signing keys again: the longest a key Users stopped
    /// publishing keeps working there, plus up to 5 % (IdentityModel's jitter). At least 5 minutes, IdentityModel's minimum.
    /// </summary>
    public TimeSpan SigningKeysRefreshInterval { get; set; } = DefaultSigningKeysRefreshInterval;

    /// <summary>
    /// How long a service waits for Users' signing keys, in one attempt: the request whose token needs them waits as long.
    /// When it runs out, keys fetched before keep working and a token with a key not seen yet is answered 503, for the 30 s
    /// until the next try: so the default leaves room for a process's first fetch on a busy machine (a cold test process at
    /// load 35 on two cores took over 2 s), and a Users that is down refuses the connection at once anyway.
    /// </summary>
    public TimeSpan SigningKeysFetchTimeout { get; set; } = DefaultSigningKeysFetchTimeout;
}

public sealed class ServiceKeyOptions : AuthenticationSchemeOptions
{
    /// <summary>
    /// Accepted keys per calling service (<c>ServiceAuth:Callers:orders:0</c>, …). More than one key per
    /// caller is how a key is rotated without downtime: add the new one, switch the caller, drop the old.
    /// </summary>
    public Dictionary<string, string[]> Callers { get; set; } = [];
}

/// <summary>
/// Authenticates other Shop services by their own service key (constant-time compare against every
/// accepted key); the identity names the caller, so each internal route admits only its callers.
/// </summary>
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
        var presentedBytes = Encoding.UTF8.GetBytes(presented);
        string? caller = null;
        foreach (var (name, keys) in Options.Callers)
        {
            foreach (var key in keys)
            {
                // Every key is compared (no early exit), so the time taken says nothing about which matched.
                if (!string.IsNullOrEmpty(key) && CryptographicOperations.FixedTimeEquals(presentedBytes, Encoding.UTF8.GetBytes(key)))
                {
                    caller = name;
                }
            }
        }
        if (caller is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("Invalid service key."));
        }
        var identity = new ClaimsIdentity(
            [new Claim("name", caller), new Claim(ShopAuthentication.RoleClaim, "service"), new Claim(ShopAuthentication.ServiceCallerClaim, caller)],
            Scheme.Name, "name", ShopAuthentication.RoleClaim);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }
}
