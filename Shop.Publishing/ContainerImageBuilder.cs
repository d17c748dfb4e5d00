using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Shop.Publishing;

/// <summary>
/// Builds every .NET project of the app model into an OCI image tarball with the SDK's container
/// support (<c>dotnet publish -t:PublishContainer</c>), which needs no Docker daemon. Load them with
/// <c>docker load -i users.tar.gz</c>, or push elsewhere with <c>-p:ContainerRegistry=…</c> instead.
/// </summary>
public static class ContainerImageBuilder
{
    /// <summary>The non-root 'app' user of the .NET images, numeric so Kubernetes' runAsNonRoot can verify it.</summary>
    public const string ContainerUser = "1654";

    public static async Task BuildAllAsync(PipelineStepContext ctx)
    {
        var options = PublishOptions.From(ctx.Services.GetRequiredService<IConfiguration>());
        var outputDirectory = ctx.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
        foreach (var project in ctx.Model.Resources.OfType<ProjectResource>())
        {
            var projectPath = project.GetProjectMetadata().ProjectPath;
            ctx.Logger.LogInformation("Building image {Image} from {Project}", options.ImageFor(project.Name), projectPath);
            var (exitCode, output) = await BuildAsync(projectPath, project.Name, options, outputDirectory, ctx.CancellationToken);
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"dotnet publish of '{project.Name}' failed ({exitCode}):\n{output}");
            }
        }
    }

    /// <summary>The <c>dotnet publish</c> arguments that write <c>&lt;output&gt;/&lt;name&gt;.tar.gz</c>.</summary>
    public static IReadOnlyList<string> PublishArguments(string projectPath, string name, PublishOptions options, string outputDirectory) =>
    [
        "publish", projectPath, "-c", "Release", "-t:PublishContainer", "-nologo",
        // Built for the image's own platform: a RID-less publish carries the build machine's glibc
        // app host, which Alpine's musl cannot start. ReadyToRun because a replica that scales out
        // under load should not spend its first seconds in the JIT (measured: docs/deploy.md).
        // ReadyToRun can be turned off (Shop:Publish:ReadyToRun=false) where build time matters more:
        // it precompiles every dependency per service, minutes on a busy 2-core machine.
        "-r", options.RuntimeIdentifier, "--self-contained", "false", $"-p:PublishReadyToRun={(options.ReadyToRun ? "true" : "false")}",
        $"-p:ContainerArchiveOutputPath={Path.Combine(Path.GetFullPath(outputDirectory), name + ".tar.gz")}",
        $"-p:ContainerRepository={options.RepositoryFor(name)}",
        $"-p:ContainerImageTag={options.Tag}",
        // The official aspnet image for the family, or the base image of the chosen set (a local registry's).
        options.Images.AspNetBaseImage is { } baseImage ? $"-p:ContainerBaseImage={baseImage}" : $"-p:ContainerFamily={options.Images.ContainerFamily}",
        $"-p:ContainerUser={ContainerUser}",
    ];

    public static async Task<(int ExitCode, string Output)> BuildAsync(string projectPath, string name, PublishOptions options, string outputDirectory, CancellationToken ct)
    {
        Directory.CreateDirectory(outputDirectory);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in PublishArguments(projectPath, name, options, outputDirectory))
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start dotnet.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await stdout + await stderr);
    }
}
