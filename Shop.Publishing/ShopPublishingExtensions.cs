using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Shop.Publishing;

/// <summary>
/// The Shop's own publishers (Aspire.Hosting.Docker/Kubernetes are not available here), as pipeline steps:
/// <list type="bullet">
/// <item><c>publish-compose</c>: docker-compose.yaml + .env</item>
/// <item><c>publish-k8s</c>: Kubernetes manifests + kustomization.yaml</item>
/// <item><c>publish-images</c>: the .NET services' container images as tarballs (no Docker daemon)</item>
/// </list>
/// Run one with <c>dotnet run --project Shop.AppHost -- --operation publish --step publish-compose --output-path DIR</c>
/// (<c>./shop publish compose DIR</c>): it writes straight into DIR. The first two are also required by the
/// <c>publish</c> step (<c>aspire publish -o DIR</c>), which runs both: each then writes into its own
/// subfolder, <c>DIR/compose</c> and <c>DIR/k8s</c>, since their files would otherwise mix.
/// </summary>
public static class ShopPublishingExtensions
{
    public const string ComposeStep = "publish-compose";
    public const string KubernetesStep = "publish-k8s";
    public const string ImagesStep = "publish-images";

    /// <summary>The subfolders of the output directory when the <c>publish</c> step runs both publishers.</summary>
    public const string ComposeFolder = "compose";
    public const string KubernetesFolder = "k8s";

    public static IDistributedApplicationBuilder AddShopPublishers(this IDistributedApplicationBuilder builder)
    {
        // No dependency on Aspire's parameter processing (it prompts for values without defaults and
        // would wait forever in a script): ParameterValues resolves values itself.
        builder.Pipeline.AddStep(ComposeStep, ctx => PublishAsync(ctx, ComposeStep, ComposeFolder, PublishTarget.Compose), requiredBy: WellKnownPipelineSteps.Publish);
        builder.Pipeline.AddStep(KubernetesStep, ctx => PublishAsync(ctx, KubernetesStep, KubernetesFolder, PublishTarget.Kubernetes), requiredBy: WellKnownPipelineSteps.Publish);
        builder.Pipeline.AddStep(ImagesStep, ContainerImageBuilder.BuildAllAsync);
        return builder;
    }

    private static async Task PublishAsync(PipelineStepContext ctx, string step, string folder, PublishTarget target)
    {
        var configuration = ctx.Services.GetRequiredService<IConfiguration>();
        var options = PublishOptions.From(configuration);
        var outputDirectory = ctx.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
        if (ctx.Services.GetRequiredService<IOptions<PipelineOptions>>().Value.Step != step)
        {
            outputDirectory = Path.Combine(outputDirectory, folder);
        }

        var builder = new DeploymentModelBuilder(ctx.Model, ctx.ExecutionContext, options);
        var model = await builder.BuildAsync(ctx.CancellationToken);
        target.WriteOver(model, existing => ParameterValues.Resolve(builder.ParameterResources, configuration, existing, m => ctx.Logger.LogWarning("{Message}", m),
            (parameter, value) => PublishConventions.UnusableValue(ctx.Model, parameter, value) ?? PublishConventions.UnusableValue(model, builder.ParameterResources[parameter], value)),
            options, outputDirectory);
        ctx.Logger.LogInformation("Wrote {Count} services to {Directory}", model.Services.Count, outputDirectory);
    }
}

/// <summary>An output the publish steps write: how it reads the values already in its directory, and how it writes.</summary>
internal sealed record PublishTarget(Func<string, IReadOnlyDictionary<string, string>> ReadValues, PublishTarget.Writer Write)
{
    public delegate void Writer(DeploymentModel model, IReadOnlyDictionary<string, string> values, PublishOptions options, string outputDirectory);

    public static PublishTarget Compose { get; } = new(d => EnvFile.Read(Path.Combine(d, ComposeWriter.EnvFileName)), ComposeWriter.Write);
    public static PublishTarget Kubernetes { get; } = new(KubernetesWriter.ReadValues, KubernetesWriter.Write);

    /// <summary>
    /// Writes the output over what <paramref name="outputDirectory"/> already holds: the values resolved with those read
    /// there, and the registry and tag the operator set in compose's <c>.env</c> unless this publish names its own
    /// (<see cref="PublishOptions.KeepingImageNames"/>; Kubernetes' writer takes its images from the model).
    /// </summary>
    public void WriteOver(DeploymentModel model, Func<IReadOnlyDictionary<string, string>, IReadOnlyDictionary<string, string>> resolveValues,
        PublishOptions options, string outputDirectory)
    {
        var existing = ReadValues(outputDirectory);
        Write(model, resolveValues(existing), options.KeepingImageNames(existing), outputDirectory);
    }
}
