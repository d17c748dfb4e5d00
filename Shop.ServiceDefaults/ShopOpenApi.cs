using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Microsoft.Extensions.Hosting;

public static class ShopOpenApiExtensions
{
    private const string BearerScheme = "bearer";

    /// <summary>An OpenAPI document describing the service's public routes and the bearer scheme.</summary>
    public static TBuilder AddShopOpenApi<TBuilder>(this TBuilder builder, string title) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = title, Version = "v1" };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "Access token from POST /users/login or /users/register.",
                };
                return Task.CompletedTask;
            });
            // Operations that need a token say so, with the 401/403 answers they can give.
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [],
                    });
                    operation.Responses ??= new OpenApiResponses();
                    operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing or invalid token" });
                    operation.Responses.TryAdd("403", new OpenApiResponse { Description = "Not allowed for this role" });
                }
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>
    /// Serves the document under the service's public prefix, e.g. <c>/users/openapi/v1.json</c>, when API
    /// documentation is on (<see cref="ApiDocsEnabled"/>); otherwise the path is simply not found.
    /// </summary>
    public static void MapShopOpenApi(this WebApplication app, string publicPrefix)
    {
        if (app.ApiDocsEnabled())
        {
            app.MapOpenApi($"{publicPrefix.TrimEnd('/')}/openapi/{{documentName}}.json");
        }
    }

    /// <summary>
    /// The OpenAPI documents and the gateway's <c>/api-docs</c> are a map of every route for whoever reads
    /// them: served in Development, elsewhere only when <c>Shop:ApiDocs</c> is true.
    /// </summary>
    public static bool ApiDocsEnabled(this WebApplication app) =>
        app.Configuration.GetValue<bool?>("Shop:ApiDocs") ?? app.Environment.IsDevelopment();

    public const string ApiDocsOffDetail = "API documentation is served only in Development, or where the configuration sets Shop:ApiDocs to true.";
}
