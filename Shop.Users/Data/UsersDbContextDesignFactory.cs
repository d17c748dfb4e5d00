namespace Shop.Users.Data;

internal sealed class UsersDbContextDesignFactory : Microsoft.Extensions.Hosting.NpgsqlDesignTimeFactory<UsersDbContext>;
