using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Shop.ServiceDefaults;

public static class ShopOpenApiExtensions
{
    private const string BearerScheme = "bearer";

    /// <summary>
    /// An OpenAPI document describing the service's public routes and the bearer scheme, as a client sees
    /// them through the gateway. <paramref name="tags"/> describes each tag (route group) the service uses.
    /// </summary>
    public static TBuilder AddShopOpenApi<TBuilder>(this TBuilder builder, string title, string description,
        IReadOnlyDictionary<string, string> tags) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, context, _) =>
            {
                document.Info = new OpenApiInfo { Title = title, Version = "v1", Description = description };
                foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
                {
                    tag.Description ??= tags.GetValueOrDefault(tag.Name ?? "");
                }
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "Access token from POST /users/login or /users/register.",
                };
                // The generator names the service's own address, which clients cannot reach in a
                // deployment: name the origin the request came to instead — the gateway's, from its
                // X-Forwarded-Proto/Host (see UseServiceDefaults). No trailing slash: paths start with one.
                if (context.ApplicationServices.GetService<IHttpContextAccessor>()?.HttpContext?.Request is { } request)
                {
                    document.Servers = [new OpenApiServer { Url = $"{request.Scheme}://{request.Host}{request.PathBase}".TrimEnd('/') }];
                }
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, cancellationToken) =>
            {
                var description = context.Description;
                operation.OperationId ??= OperationId(description.HttpMethod ?? "GET", description.RelativePath ?? "");
                operation.Description ??= operation.Summary;
                operation.Responses ??= new OpenApiResponses();

                // Operations that need a token say so, with the 401/403 answers they can give; public
                // ones say "security: []", so that a client does not send a token they do not need.
                var metadata = description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [],
                    });
                    operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing, expired or invalid access token" });
                    operation.Responses.TryAdd("403", new OpenApiResponse { Description = "The account lacks the role this needs" });
                }
                else
                {
                    operation.Security = [];
                }
                // Whatever a route names (a user, an order, a sku) may not exist, or belong to someone else: 404.
                if (description.ParameterDescriptions.Any(p => p.Source.Id == "Path"))
                {
                    operation.Responses.TryAdd("404", new OpenApiResponse { Description = "Not found (or not yours)" });
                }
                // Every request through the gateway spends from one of its rate-limit buckets.
                operation.Responses.TryAdd("429", new OpenApiResponse
                {
                    Description = "Rate limit reached at the gateway; Retry-After says when to try again",
                    Headers = new Dictionary<string, IOpenApiHeader>
                    {
                        ["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } },
                    },
                });

                // Every error answer is an RFC 9457 problem.
                IOpenApiSchema? problemSchema = null;
                foreach (var (status, response) in operation.Responses.Where(r => r.Key[0] is '4' or '5').ToList())
                {
                    if (response is OpenApiResponse { Content: null or { Count: 0 } } bare)
                    {
                        problemSchema ??= await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, cancellationToken);
                        bare.Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = problemSchema } };
                    }
                }
            });
        });
        return builder;
    }

    /// <summary>"POST users/{id}/role" → "postUsersByIdRole": stable, unique per method and route, and valid in generated clients.</summary>
    private static string OperationId(string method, string route)
    {
        var name = new System.Text.StringBuilder(method.ToLowerInvariant());
        foreach (var segment in route.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var parameter = segment.StartsWith('{');
            if (parameter)
            {
                name.Append("By");
            }
            foreach (var word in segment.Trim('{', '}').Split(['.', '-', '_', ':'], StringSplitOptions.RemoveEmptyEntries))
            {
                name.Append(char.ToUpperInvariant(word[0])).Append(word[1..]);
            }
        }
        return name.ToString();
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
