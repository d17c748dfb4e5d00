using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Shop.ServiceDefaults;

namespace Shop.Gateway.RateLimiting;

public static class GatewayRateLimitingExtensions
{
    /// <summary>The gateway's rate limits (<see cref="GatewayRateLimiter"/>), answered with a 429 problem and Retry-After.</summary>
    public static WebApplicationBuilder AddGatewayRateLimiting(this WebApplicationBuilder builder)
    {
        builder.AddStartupSettings<GatewayRateLimitOptions>(GatewayRateLimitOptions.Section)
            .Validate(o => new[] { o.Requests, o.SignIn, o.Refresh, o.AccountChange, o.PlaceOrder, o.InvalidTokens }.All(b => b.TokenLimit > 0 && b.TokensPerPeriod > 0 && b.ReplenishmentPeriod > TimeSpan.Zero),
                "Every RateLimiting bucket needs TokenLimit, TokensPerPeriod and ReplenishmentPeriod above zero.")
            .Validate(o => o.SharedLeaseMaxTokens >= 1 && o.SharedLeaseLifetime > TimeSpan.Zero,
                "RateLimiting:SharedLeaseMaxTokens must be at least 1 (1 turns leasing off) and SharedLeaseLifetime above zero.")
            .Validate(o => o.ExemptNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)), "RateLimiting:ExemptNetworks must be CIDRs such as 10.0.0.0/8.");
        builder.Services.AddSingleton<GatewayRateLimiter>();
        builder.Services.AddRedisScripts(RedisTokenBucket.Scripts);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TokenUsers>();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<GatewayRateLimiter>((o, limiter) =>
        {
            o.GlobalLimiter = limiter;
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = WriteRejectionAsync;
        });
        return builder;
    }

    private static async ValueTask WriteRejectionAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var lease = context.Lease as GatewayRateLimiter.Lease;
        var seconds = Math.Max(1, (int)Math.Ceiling((lease?.RetryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds));
        var http = context.HttpContext;
        if (lease is { DecidedInMemory: true } && http.Features.Get<IHttpActivityFeature>()?.Activity is { } activity)
        {
            // A client hammering past its limit would otherwise fill the traces (and cost the exporter and
            // the collector more than the refusals themselves). These are counted by the rate-limiting and
            // request metrics; the refusal that asked Redis keeps its trace.
            activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            activity.IsAllDataRequested = false;
        }
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var detail = lease?.Kind switch
        {
            "sign-in" => $"Too many sign-in or registration attempts from your network address. Wait {seconds} s (Retry-After) before trying again.",
            "refresh" => $"Too many token refreshes from your network address. Wait {seconds} s (Retry-After) before trying again; you stay signed in until then.",
            "account-change" => $"Too many changes to an account's email or password from your network address (each checks a password). Wait {seconds} s (Retry-After) before trying again.",
            "invalid-token" => $"Too many requests with access tokens that are not valid (forged or expired) came from your network address, so new tokens from it are not checked for now. Wait {seconds} s (Retry-After) and send the request again; a token already used here goes on working.",
            "order" => $"Too many orders in a short time. Wait {seconds} s (Retry-After), then place the order again with the same Idempotency-Key.",
            _ => $"Too many requests in a short time. Wait {seconds} s (Retry-After) and send requests more slowly.",
        };
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = detail },
        });
    }
}
