using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults;

/// <summary>
/// Security events (sign-in failures, lock-outs, token reuse, role and status changes, webhook
/// subscriptions) as structured Information logs in their own category, <c>Shop.Security.Audit</c>,
/// so an operator can filter, ship and alert on them apart from the application's logs. Each names
/// the event, who acted, on what, the request id and the client address; never a secret or password.
/// </summary>
public sealed class SecurityAudit(ILoggerFactory loggers, IHttpContextAccessor http)
{
    public const string Category = "Shop.Security.Audit";

    private readonly ILogger _logger = loggers.CreateLogger(Category);

    /// <param name="eventName">A stable dotted name, e.g. <c>auth.login_failed</c> or <c>user.role_changed</c>.</param>
    /// <param name="actor">Who acted: a user id, or an email for sign-in events; null when anonymous.</param>
    /// <param name="target">What it acted on: a user id, a session, a webhook id.</param>
    /// <param name="detail">A short non-secret detail, e.g. <c>user→admin</c>.</param>
    public void Record(string eventName, string? actor, string? target, string? detail = null)
    {
        var context = http.HttpContext;
        _logger.LogInformation("Security event {AuditEvent}: actor {Actor}, target {Target}, {AuditDetail} (request {RequestId}, client {ClientAddress})",
            eventName, actor ?? "anonymous", target ?? "-", detail ?? "-", context?.TraceIdentifier ?? "-",
            context?.Connection.RemoteIpAddress?.ToString() ?? "-");
    }
}
