using Scalar.AspNetCore;
using Shop.Gateway;
using Shop.Gateway.RateLimiting;
using Yarp.ReverseProxy.Transforms;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddGatewayTls();
builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(EdgeRequestLimits.ConfigureKestrel);
// Rate-limit buckets, shared by every gateway replica (database 3: 0-2 are the services').
builder.AddShopRedis(databaseIndex: 3);
// Rate limits per user trust only a token whose signature the gateway has checked (TokenUsers).
builder.AddShopTokenValidation();
builder.AddGatewayRateLimiting();
builder.Services.AddReverseProxy()
    .LoadFromMemory(GatewayRoutes.Routes(), GatewayRoutes.Clusters())
    // X-Forwarded-* are what the gateway saw, never what the client claimed: the services trust them
    // (sign-in throttling counts per client address), so whatever a client sends is replaced.
    .AddTransforms(context =>
    {
        context.UseDefaultForwarders = false;
        context.AddXForwarded(ForwardedTransformActions.Set);
        RefreshCookieForwarding.AddTo(context);
    })
    .AddServiceDiscoveryDestinationResolver();
ClientBodyErrors.UseClientBodyErrorLogger(builder.Services);
LoggedConsecutiveFailuresPolicy.AddTo(builder.Services);

builder.AddNoDataProtection();

var app = builder.Build();
app.UseEdgeRequestLimits();
app.UseGatewayTls();
app.UseServiceDefaults(atTheEdge: true);
app.UseMiddleware<GatewayEdgeMiddleware>();
app.UseRateLimiter();
// Route after the edge middleware: it marks SPA navigations, which decides the route.
app.UseRouting();

app.MapDefaultEndpoints(publicPrefix: "/");
if (app.ApiDocsEnabled())
{
    app.MapScalarApiReference("/api-docs", options =>
    {
        options.WithTitle("Shop API");
        foreach (var api in GatewayRoutes.Apis)
        {
            options.AddDocument(api.Name, api.Title, $"{api.Prefix}/openapi/v1.json");
        }
    });
}
else
{
    // Otherwise the SPA's catch-all route would answer with its own page.
    app.Map("/api-docs/{**rest}", () => Results.Problem(statusCode: StatusCodes.Status404NotFound,
        detail: ShopOpenApiExtensions.ApiDocsOffDetail));
}
app.MapReverseProxy(proxy =>
{
    proxy.Use(ForwarderErrorMiddleware.InvokeAsync);
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});

app.Run();
