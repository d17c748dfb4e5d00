namespace Shop.ServiceDefaults;

/// <summary>
/// How large a request may be: what a client may send the Shop (the gateway refuses more with a problem that says the
/// limit, <c>EdgeRequestLimits</c> in Shop.Gateway), and what a service takes, derived from it: the client's request as
/// the gateway forwards it, with the headers the gateway adds. One source, so raising an edge limit raises the services'.
/// </summary>
public static class RequestLimits
{
    /// <summary>A body, at the edge and in every service (larger ones are answered 413).</summary>
    public const long MaxBodyBytes = 1024 * 1024;

    /// <summary>The request line a client may send, with its CRLF: Kestrel's default, which the gateway took before it said why.</summary>
    public const int EdgeMaxRequestLineBytes = 8 * 1024;

    /// <summary>
    /// A service's request line: the longest the gateway forwards. YARP sends the path as Kestrel decoded it, escaped
    /// again: dot segments are gone (shorter), but a byte a path may not carry as it is (<c>"</c>, <c>{</c>, <c>|</c>, the
    /// <c>%</c> of a <c>%2F</c> or of an escape that is no UTF-8) becomes three (<c>%22</c>, <c>%252F</c>), in the query
    /// too. At Kestrel's default, the edge's, a service refused such a line with a bare 414 the gateway passed on.
    /// </summary>
    public const int ServiceMaxRequestLineBytes = 3 * EdgeMaxRequestLineBytes;

    /// <summary>A client's header lines (<c>name: value</c> with CRLF), Kestrel's default.</summary>
    public const int EdgeMaxHeaderBytes = 32 * 1024;

    /// <summary>A client's header fields, Kestrel's default.</summary>
    public const int EdgeMaxHeaderCount = 100;

    /// <summary>
    /// Room for the header lines the gateway adds to a request it forwards: X-Forwarded-For (an IPv6 address, ~65 bytes),
    /// X-Forwarded-Proto (~26), X-Forwarded-Host (the client's Host again, ~280 for the longest DNS name with a port: the
    /// edge refuses a longer Host, <c>ClientHost</c> in Shop.Gateway), traceparent (70), X-Request-Id (at most 128
    /// characters, ~145), X-Shop-Spa-Navigation (~25): under 1 KiB in all. A client's own X-Forwarded-* are replaced, never
    /// added to, so a long X-Forwarded-For chain shrinks on the way. It also covers the trace context re-written rather than
    /// copied (tracestate, baggage). A hop over HTTP/2 would count less, not more: Kestrel counts a field's name and value
    /// there, without separators. 8 KiB leaves several times what is added.
    /// </summary>
    public const int GatewayAddedHeaderBytes = 8 * 1024;

    /// <summary>Fields the gateway adds (the six above, with tracestate and baggage: eight), with room to spare.</summary>
    public const int GatewayAddedHeaderCount = 20;

    /// <summary>A service's header lines: the most the gateway forwards, so it never answers a bare 431 for headers the gateway took.</summary>
    public const int ServiceMaxHeaderBytes = EdgeMaxHeaderBytes + GatewayAddedHeaderBytes;

    /// <summary>A service's header fields, as <see cref="ServiceMaxHeaderBytes"/>.</summary>
    public const int ServiceMaxHeaderCount = EdgeMaxHeaderCount + GatewayAddedHeaderCount;
}
