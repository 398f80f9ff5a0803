using System.Reflection;
using PublicApiGenerator;

namespace Infera.Tests;

/// <summary>
/// The public surface of each package, compared with its approved file under tests/Infera.Tests/PublicApi. A change
/// fails here and writes a .received.txt beside the approved file: copy it over the approved one to accept the change.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Packages => new()
    {
        "Infera.Abstractions",
        "Infera.Numerics",
        "Infera",
        "Infera.ModelBuilder",
        "Infera.Server",
        "Infera.Models",
        "Infera.Cpu",
        "Infera.Cuda",
        "Infera.DirectML",
        "Infera.CoreML",
    };

    [Theory]
    [MemberData(nameof(Packages))]
    public void PublicApi_MatchesApprovedFile(string package)
    {
        var assembly = Assembly.Load(package);
        var api = assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            IncludeAssemblyAttributes = false,

            // Compiler-generated state machine names change with unrelated edits; they are not part of the API.
            ExcludeAttributes =
            [
                "System.Runtime.CompilerServices.AsyncIteratorStateMachineAttribute",
                "System.Runtime.CompilerServices.AsyncStateMachineAttribute",
                "System.Runtime.CompilerServices.IteratorStateMachineAttribute",
                "System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessageAttribute",
            ],
        }).ReplaceLineEndings("\n");
        var folder = Path.Combine(TestModels.RepositoryRoot, "tests", "Infera.Tests", "PublicApi");
        var approved = Path.Combine(folder, package + ".approved.txt");
        var received = Path.Combine(folder, package + ".received.txt");

        var expected = File.Exists(approved) ? File.ReadAllText(approved).ReplaceLineEndings("\n") : null;
        if (expected != api)
        {
            File.WriteAllText(received, api);
        }
        else if (File.Exists(received))
        {
            File.Delete(received);
        }

        Assert.True(expected == api, $"The public API of {package} changed. Review {received} and copy it to {approved} to approve it.");
    }
}
