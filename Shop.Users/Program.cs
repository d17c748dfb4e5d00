using Shop.Users;
using Shop.Users.Apis;
using Shop.Users.Data;
using Shop.Users.Services;

var builder = WebApplication.CreateBuilder(args);
if (await builder.RunMigrationStepAsync<UsersDbContext>(args, "usersdb"))
{
    return;
}
builder.AddServiceDefaults();
builder.AddShopDbContext<UsersDbContext, WebApplicationBuilder>("usersdb");
builder.AddShopRedis(databaseIndex: 0);

builder.AddStartupSettings("Jwt", new JwtOptionsCheck(signingKeyRequired: !builder.Environment.IsDevelopment()));
// The issuer's keys are built in now: AddShopAuthentication checks tokens with them.
using var bootstrapLogs = LoggerFactory.Create(l => l.AddConsole());
var tokenIssuer = TokenIssuer.Create(builder.GetStartupSettings<JwtOptions>("Jwt"), bootstrapLogs.CreateLogger("Shop.Users"));
builder.Services.AddSingleton(tokenIssuer);
builder.Services.AddSingleton<UsersDatabase>();
builder.Services.AddSingleton<IAccountStampSource, DatabaseStampSource>();
builder.Services.AddSingleton<IUnpublishedStampRecord, UnpublishedStampTable>();
builder.Services.AddHostedService<UnpublishedStampSweep>();
builder.AddShopAuthentication(localSigningKeys: [.. tokenIssuer.PublicKeys]);

builder.Services.AddSingleton<PasswordService>();
builder.AddStartupSettings("Admin", new AdminOptionsCheck());
builder.AddStartupSettings("LoginThrottle", new LoginThrottleOptionsCheck());
builder.Services.AddSingleton<LoginThrottle>();
builder.Services.AddRedisScripts(LoginThrottle.Scripts);
builder.Services.AddScoped<SignInSessions>();
builder.Services.AddScoped<AccountChanges>();
builder.Services.AddScoped<AccountReader>();
builder.Services.AddScoped<AccountUpdates>();
builder.Services.AddScoped<Registration>();
builder.Services.AddScoped<PasswordSignIn>();
builder.AddShopOpenApi("Shop Users API", "Accounts, sign-in sessions and the public keys that verify access tokens.", new Dictionary<string, string>
{
    ["Users"] = "Accounts: register, read and change them; admins list, promote and deactivate",
    ["Sessions"] = "Sign in, refresh the access token, sign out",
});

builder.AddNoDataProtection();

var app = builder.Build();
await app.MigrateDatabaseAsync<UsersDbContext>("usersdb");
await app.EnsureAdminAsync();

app.UseServiceDefaults();
app.UseAuthentication();
app.UseAuthorization();

app.MapShopOpenApi("/users");
app.MapDefaultEndpoints(publicPrefix: "/users");
app.MapUsersRoutes();

app.Run();

public partial class Program;
