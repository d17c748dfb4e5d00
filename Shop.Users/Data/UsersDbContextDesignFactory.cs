namespace Shop.Users.Data;

internal sealed class UsersDbContextDesignFactory : Shop.ServiceDefaults.NpgsqlDesignTimeFactory<UsersDbContext>;
