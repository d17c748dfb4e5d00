using Microsoft.Extensions.Primitives;

namespace Shop.ServiceDefaults;

/// <summary>
/// The browser's refresh cookie, as Users sets and reads it and as the gateway keeps it from every other route.
/// <para>
/// Named <c>__Host-…</c>: a browser takes such a cookie only from the shop's own host, Secure, <c>Path=/</c> and without
/// <c>Domain</c>. Under a plain name any host of the same site (a compromised or user-content subdomain, a man in the
/// middle on a sibling's http) could toss one for the whole domain on a longer path, which the browser sends first: the
/// shopper's SPA would restore the attacker's session (login CSRF) or a planted token.
/// </para>
/// </summary>
public static class RefreshCookies
{
    public const string Name = "__Host-shop_refresh";

    /// <summary>
    /// The name before the prefix, set with <see cref="LegacyPath"/>. Never read: any host of the site can set a cookie of
    /// this name, so honouring it (even only where <see cref="Name"/> is absent, to move browsers signed in before the
    /// change) would let a sibling toss its session into a signed-out browser. A browser that still holds one is asked to
    /// sign in again once, and the cookie is deleted; the gateway keeps it from every route.
    /// </summary>
    public const string LegacyName = "shop_refresh";

    public const string LegacyPath = "/users/token";

    /// <summary>The routes that read the cookie (Users' refresh): the gateway forwards it to no other.</summary>
    public const string ReadUnder = "/users/token";

    /// <summary>
    /// The refresh cookie a request presents (<see cref="Name"/> only). <see cref="Ambiguous"/>: it carries two of that name
    /// (one of them tossed by another host), so neither may be trusted. <see cref="LegacyPresent"/>: it carries one under
    /// <see cref="LegacyName"/>, to be deleted.
    /// </summary>
    public sealed record Presented(string? Token, bool Ambiguous, bool LegacyPresent);

    public static Presented Read(StringValues cookieHeaders)
    {
        List<string> current = [], legacy = [];
        foreach (var (name, value) in Parse(cookieHeaders))
        {
            (name == Name ? current : name == LegacyName ? legacy : null)?.Add(value);
        }
        return current.Count > 1
            ? new Presented(null, Ambiguous: true, legacy.Count > 0)
            : new Presented(current.SingleOrDefault() is { Length: > 0 } token ? token : null, Ambiguous: false, legacy.Count > 0);
    }

    /// <summary>The <c>Cookie</c> header without the refresh cookies (either name); null when nothing else is left.</summary>
    public static string? Without(string cookieHeader)
    {
        var header = string.Join("; ", from pair in Pairs(cookieHeader) where pair.Name is not (Name or LegacyName) select pair.Text);
        return header.Length == 0 ? null : header;
    }

    /// <summary>Every name=value pair in order, duplicates kept (ASP.NET's <c>Request.Cookies</c> keeps only the first).</summary>
    private static IEnumerable<(string Name, string Value)> Parse(StringValues cookieHeaders) =>
        from header in cookieHeaders
        where header is not null
        from pair in Pairs(header)
        select (pair.Name, pair.Value);

    /// <summary>One <c>Cookie</c> header's pairs: the text as sent, its name, and its value unquoted.</summary>
    private static IEnumerable<(string Text, string Name, string Value)> Pairs(string cookieHeader) =>
        from text in cookieHeader.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        let parts = text.Split('=', 2)
        select (text, parts[0].Trim(), parts.Length == 2 ? parts[1].Trim().Trim('"') : "");
}
