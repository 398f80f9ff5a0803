using System.IO.Compression;
using System.Xml.Linq;

namespace Infera.Tests;

[Collection(PackagesCollection.Name)]
public sealed class PackageTests(PackagesFixture packages)
{
    [Theory]
    [InlineData("Infera.Cuda", "Microsoft.ML.OnnxRuntimeGenAI.Cuda", "0.18.0")]
    [InlineData("Infera.DirectML", "Microsoft.ML.OnnxRuntimeGenAI.DirectML", "0.18.0")]
    [InlineData("Infera.Cpu", "Microsoft.ML.OnnxRuntimeGenAI", "0.18.0")]
    [InlineData("Infera.CoreML", "Microsoft.ML.OnnxRuntimeGenAI", "0.18.0")]
    public void Nuspec_ProviderPackage_DeclaresItsNativeRuntimeAndInfera(string package, string native, string version)
    {
        var dependencies = Dependencies(package);

        Assert.Contains((native, version), dependencies);
        Assert.Contains(("Infera", packages.Version), dependencies);
    }

    [Theory]
    [MemberData(nameof(AllPackages))]
    public void Package_HasReadmeIconLicenceAndLibrary(string package)
    {
        using var archive = ZipFile.OpenRead(packages.PackagePath(package));
        var names = archive.Entries.Select(e => e.FullName).ToArray();
        var metadata = Nuspec(archive).Root!.Elements().First(e => e.Name.LocalName == "metadata");

        Assert.Contains("README.md", names);
        Assert.Contains("icon.png", names);
        Assert.Contains($"lib/net10.0/{package}.dll", names);
        Assert.Contains($"lib/net10.0/{package}.xml", names);
        Assert.Equal("MIT", metadata.Elements().First(e => e.Name.LocalName == "license").Value);
        Assert.Equal("README.md", metadata.Elements().First(e => e.Name.LocalName == "readme").Value);
    }

    [Fact]
    public void Nuspec_Abstractions_DependsOnlyOnMicrosoftExtensionsAIAbstractions()
    {
        Assert.Equal(["Microsoft.Extensions.AI.Abstractions"], Dependencies("Infera.Abstractions").Select(d => d.Id).Distinct());
    }

    [Theory]
    [InlineData("Infera.Cpu")]
    [InlineData("Infera.Cuda")]
    [InlineData("Infera.DirectML")]
    [InlineData("Infera.CoreML")]
    public void Package_Provider_CarriesTheConflictCheck(string package)
    {
        using var archive = ZipFile.OpenRead(packages.PackagePath(package));
        Assert.Contains(archive.Entries, e => e.FullName == $"buildTransitive/{package}.targets");
    }

    [Fact]
    public void PackSolution_WritesOnePackagePerPackableProjectAndNothingElse()
    {
        var written = Directory.GetFiles(packages.Folder, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(13, PackagesFixture.PackableProjects().Length);
        Assert.Equal(PackagesFixture.PackableProjects().Select(id => $"{id}.{packages.Version}.nupkg"), written);
        Assert.DoesNotContain(": warning ", packages.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Readme_PackagesTable_NamesEveryPackage()
    {
        string readme = File.ReadAllText(Path.Combine(TestModels.RepositoryRoot, "README.md"));

        Assert.All(PackagesFixture.PackableProjects(), id => Assert.Contains($"`{id}`", readme, StringComparison.Ordinal));
    }

    [Fact]
    public void Package_Tool_IsTheInferaCommandWithTheDefaultModelNotice()
    {
        using var archive = ZipFile.OpenRead(packages.PackagePath(PackagesFixture.ToolId));
        var names = archive.Entries.Select(e => e.FullName).ToArray();

        Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", names);
        Assert.Contains("tools/net10.0/any/Infera.Cli.dll", names);
        Assert.Contains("THIRD-PARTY-NOTICES/stories260K-LICENSE.txt", names);
        Assert.Contains(Nuspec(archive).Descendants(), e => e.Name.LocalName == "packageType" && (string?)e.Attribute("name") == "DotnetTool");
    }

    public static TheoryData<string> AllPackages() => [.. PackagesFixture.LibraryIds];

    private List<(string Id, string Version)> Dependencies(string package)
    {
        using var archive = ZipFile.OpenRead(packages.PackagePath(package));
        return Nuspec(archive).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => ((string)e.Attribute("id")!, ((string)e.Attribute("version")!).Trim('[', ']', '(', ')').Split(',')[0]))
            .ToList();
    }

    private static XDocument Nuspec(ZipArchive archive)
    {
        using var stream = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(stream);
    }
}
