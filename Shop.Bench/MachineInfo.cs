using System.Runtime.InteropServices;

namespace Shop.Bench;

/// <summary>What the figures were measured on.</summary>
public sealed record MachineInfo(string Cpu, int Cores, double RamGiB, string Os, string Dotnet, string Kernel)
{
    public static MachineInfo Detect()
    {
        string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : "";
        string Field(string text, string name) =>
            text.Split('\n').FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(new[] { ':', '=' }, 2)[1].Trim().Trim('"') ?? "?";

        var cpu = Field(Read("/proc/cpuinfo"), "model name");
        var memKb = double.TryParse(Field(Read("/proc/meminfo"), "MemTotal").Split(' ')[0], out var kb) ? kb : 0;
        var os = Field(Read("/etc/os-release"), "PRETTY_NAME");
        return new MachineInfo(cpu, Environment.ProcessorCount, Math.Round(memKb / 1024 / 1024, 1),
            os == "?" ? RuntimeInformation.OSDescription : os, RuntimeInformation.FrameworkDescription, Read("/proc/sys/kernel/osrelease").Trim());
    }

    public override string ToString() => $"{Cpu}, {Cores} cores, {RamGiB} GiB RAM, {Os} (kernel {Kernel}), {Dotnet}";
}
