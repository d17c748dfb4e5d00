namespace Shop.Inventory.Data.Sql;

/// <summary>
/// SQL that lives in <c>Data/Sql/*.sql</c> (embedded in the assembly), so it reads and diffs as SQL;
/// the migrations that define it execute the file.
/// </summary>
internal static class InventorySql
{
    public static string Read(string fileName)
    {
        var name = $"{typeof(InventorySql).Namespace}.{fileName}";
        using var stream = typeof(InventorySql).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The SQL resource '{name}' is not embedded in {typeof(InventorySql).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
