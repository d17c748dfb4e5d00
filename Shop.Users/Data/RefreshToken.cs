namespace Shop.Users.Data;

/// <summary>
/// One refresh token of a sign-in session (a family). Only its SHA-256 is stored. Each use consumes it
/// and issues the next one in the same family; a consumed token presented again means it was copied,
/// and the whole family is revoked (RFC 9700 §4.14.2).
/// </summary>
public sealed class RefreshToken
{
    public Guid Id { get; set; }

    /// <summary>The sign-in session: the <c>sid</c> of its access tokens.</summary>
    public Guid FamilyId { get; set; }

    public int UserId { get; set; }
    public required byte[] TokenHash { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>
    /// When the session's sign-in was: every token of the family carries it, as the first ones are deleted once expired.
    /// No refresh is answered past it plus <c>Jwt:SessionMaxLifetime</c>.
    /// </summary>
    public DateTime SessionStartedAt { get; set; }

    public DateTime ExpiresAt { get; set; }
    public DateTime? ConsumedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}
