using Shop.Users.Apis;
using Shop.Users.Data;
using Shop.Users.Services;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddShopDbContext<UsersDbContext, WebApplicationBuilder>("usersdb");
builder.AddShopRedis(databaseIndex: 0);

var jwtOptions = builder.Configuration.GetSection("Jwt").Get<JwtOptions>() ?? new JwtOptions();
using var bootstrapLogs = LoggerFactory.Create(l => l.AddConsole());
var tokenIssuer = new TokenIssuer(TokenIssuer.LoadKey(jwtOptions, builder.Environment, bootstrapLogs.CreateLogger("Shop.Users")), jwtOptions.Lifetime);
builder.Services.AddSingleton(tokenIssuer);
builder.AddShopAuthentication(localSigningKey: tokenIssuer.PublicKey);

builder.Services.AddSingleton<PasswordService>();
builder.Services.Configure<LoginThrottleOptions>(builder.Configuration.GetSection("LoginThrottle"));
builder.Services.AddSingleton<LoginThrottle>();
builder.AddShopOpenApi("Shop Users API");

var app = builder.Build();
await app.MigrateDatabaseAsync<UsersDbContext>();
await app.EnsureAdminAsync();

app.UseServiceDefaults();
app.UseAuthentication();
app.UseAuthorization();

app.MapShopOpenApi("/users");
app.MapDefaultEndpoints(publicPrefix: "/users");
app.MapUsersApi();
app.MapInternalUsersApi();

app.Run();

public partial class Program;
