using Shop.Tests.Infrastructure;
using Xunit;

namespace Shop.Tests;

/// <summary>
/// An operator's typo in a setting stops the service at start with one message naming the setting, rather
/// than a service that reports healthy and then fails every sign-in, request or order. Each case starts the
/// service's own process again, as the AppHost started it (same command, same environment: the real
/// database and Redis), with one setting changed and a port of its own.
/// </summary>
public sealed class StartupConfigurationTests(ShopApp shop)
{
    public static TheoryData<string, string, string, string> Mistakes => new()
    {
        // Every access token would be born expired: sign-ins succeed, then every request is a 401.
        { "users", "Jwt__Lifetime", "-00:10:00", "Jwt:Lifetime" },
        // Every session would end at once: the web app's refresh fails and signs everyone out.
        { "users", "Jwt__RefreshLifetime", "00:00:00", "Jwt:RefreshLifetime" },
        // Every session would end at its first refresh (a zero or negative limit), or before the idle limit could apply.
        { "users", "Jwt__SessionMaxLifetime", "00:00:00", "Jwt:SessionMaxLifetime" },
        { "users", "Jwt__SessionMaxLifetime", "7.00:00:00", "Jwt:SessionMaxLifetime" },
        // No key to sign with: the start stopped, but with a FormatException that named no setting.
        { "users", "Jwt__SigningKey", "not-a-key", "Jwt:SigningKey" },
        // The token check is built at the first request: each one would fail with a 500.
        { "orders", "Jwt__ClockSkew", "-00:00:30", "Jwt:ClockSkew" },
        // IdentityModel refuses it when the first authenticated request builds the token check: each one a 500.
        { "inventory", "Jwt__SigningKeysRefreshInterval", "00:01:00", "Jwt:SigningKeysRefreshInterval" },
        // HttpClient refuses it when the first authenticated request builds the key fetch: each one a 500.
        { "orders", "Jwt__SigningKeysFetchTimeout", "00:00:00", "Jwt:SigningKeysFetchTimeout" },
        // Every call to Users or Inventory would be refused: every order a 503 "unavailable".
        { "orders", "ServiceAuth__ApiKey", "", "ServiceAuth:ApiKey" },
        { "inventory", "ServiceAuth__ApiKey", "", "ServiceAuth:ApiKey" },
        // A try with no time at all would fail every call to Users or Inventory: every order a 503.
        { "orders", "ServiceClients__AttemptTimeout", "00:00:00", "ServiceClients:AttemptTimeout" },
        // A pool of no connections: no request could reach the database.
        { "inventory", "Database__MaxPoolSize", "0", "Database:MaxPoolSize" },
        // Webhook secrets would be encrypted with a key-encryption key from a guessable secret.
        { "orders", "DataProtection__KeyRingKey", "too-short", "DataProtection:KeyRingKey" },
        // Redis would delete each count as it is written (PEXPIRE 0), or no delay would ever apply: sign-in
        // throttling silently off.
        { "users", "LoginThrottle__Window", "00:00:00", "LoginThrottle:Window" },
        { "users", "LoginThrottle__PerAccount__MaxDelay", "00:00:00", "LoginThrottle:PerAccount:MaxDelay" },
        // Redis refuses SET … PX 0, which the cache takes for Redis being away: the cache silently off.
        { "inventory", "Inventory__Cache__Ttl", "00:00:00", "Inventory:Cache:Ttl" },
        // A job that waits no time between passes runs them back to back against the database; a negative wait
        // throws out of the job after its first pass and stops the host.
        { "orders", "Orders__ExpirySweepInterval", "00:00:00", "Orders:ExpirySweepInterval" },
        { "orders", "Orders__Retention__SweepInterval", "-00:00:05", "Orders:Retention:SweepInterval" },
        // The webhook dispatcher's longest sleep: at zero an idle dispatcher queries the database back to back for as
        // long as the service runs; a negative one throws out of its first sleep and stops the host.
        { "orders", "Webhooks__PollInterval", "00:00:00", "Webhooks:PollInterval" },
        { "orders", "Webhooks__PollInterval", "-00:00:05", "Webhooks:PollInterval" },
        // A wait of zero is no back-off: that retry of a failed delivery, or that pause of a down subscriber, came at once;
        // a schedule of zeros spent a down subscriber's deliveries' attempts back to back, then marked them failed.
        { "orders", "Webhooks__RetrySchedule__0", "00:00:00", "Webhooks:RetrySchedule" },
        // A rotation's previous secret would expire before the rotation: subscribers still checking it fail every
        // delivery at once, where a rotation promises both signatures for the grace (zero is "no grace", allowed).
        { "orders", "Webhooks__SecretRotationGrace", "-01:00:00", "Webhooks:SecretRotationGrace" },
        // The active-account cache would throw at the first order: every order a 500.
        { "orders", "Orders__ActiveAccountCacheTtl", "-00:00:01", "Orders:ActiveAccountCacheTtl" },
        // The bootstrapped admin would have a password registration refuses: under 8 characters (five emoji are ten
        // UTF-16 units but five characters), or over 128, which sign-in refuses, so the admin could never sign in.
        { "users", "Admin__Password", "abc", "Admin:Password" },
        { "users", "Admin__Password", "\U0001F511\U0001F511\U0001F511\U0001F511\U0001F511", "Admin:Password" },
        { "users", "Admin__Password", new string('p', 129), "Admin:Password" },
        // An admin no one could register as: not an address, or one that reads as another ("kım" with a dotless ı).
        { "users", "Admin__Email", "admin-at-shop.local", "Admin:Email" },
        { "users", "Admin__Email", "k\u0131m@shop.local", "Admin:Email" },
    };

    /// <summary>What a service prints once it has passed its settings' checks: Kestrel listening, the host started.</summary>
    private static readonly string[] StartedSigns = ["Now listening on", "Application started"];

    private static readonly TimeSpan HungAfter = TimeSpan.FromMinutes(5);

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task A_service_with_an_invalid_setting_refuses_to_start_naming_it(string service, string variable, string value, string setting)
    {
        var result = await StartAgainAsync(service, variable, value);

        Assert.False(result.Stopped, $"{setting} = \"{value}\" was accepted: the service started anyway.\n{result}");
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains(setting, result.Output);
        Assert.DoesNotContain("Now listening on", result.Output);
    }

    /// <summary>
    /// The service's process started again with <paramref name="variable"/> set to <paramref name="value"/>, until it
    /// exits (refusing) or its output shows it started anyway (then it is stopped at once, <see cref="ChildProcess.Result.Stopped"/>):
    /// the outcome does not depend on how fast the machine is. Only a process that does neither, hung, meets the
    /// bound, which is generous for a loaded machine, and the <see cref="TimeoutException"/> shows its output.
    /// </summary>
    private async Task<ChildProcess.Result> StartAgainAsync(string service, string variable, string value)
    {
        var (fileName, arguments, workingDirectory) = shop.ProcessCommand(service);
        var environment = (await shop.ProcessEnvironmentAsync(service)).ToDictionary(kv => kv.Key, string? (kv) => kv.Value);
        // Only what the AppHost gave the service: none of the test runner's own variables.
        foreach (var own in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => !environment.ContainsKey(k)))
        {
            environment[own] = null;
        }
        // Its own port: a second process on the service's port would fail to bind and exit for that reason alone.
        foreach (var endpoint in environment.Keys.Where(k => k.StartsWith("Kestrel__Endpoints__", StringComparison.Ordinal)
            || k is "HTTP_PORTS" or "HTTPS_PORTS" or "ASPNETCORE_HTTP_PORTS" or "ASPNETCORE_HTTPS_PORTS").ToList())
        {
            environment[endpoint] = null;
        }
        environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        environment[variable] = value;
        return await ChildProcess.RunAsync(fileName, arguments, workingDirectory, environment, HungAfter,
            stopWhen: output => StartedSigns.Any(sign => output.Contains(sign, StringComparison.Ordinal)));
    }
}
