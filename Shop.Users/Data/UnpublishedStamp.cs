namespace Shop.Users.Data;

/// <summary>
/// An account's raised security stamp that Redis may not hold yet. The database writes it in the transaction that
/// raises the stamp (the trigger <c>record_unpublished_stamp</c>); Users deletes it once Redis has the stamp, and
/// publishes what is left at start and every few seconds (<see cref="Services.UnpublishedStampTable"/>).
/// </summary>
public sealed class UnpublishedStamp
{
    public int UserId { get; set; }
    public int Stamp { get; set; }
    public DateTime RaisedAt { get; set; }
}
