namespace Infera.ModelBuilder;

/// <summary>The standard-operator graph.</summary>
internal sealed partial class DecoderGraphWriter
{
    private GraphInfo BuildStandard() => throw new NotSupportedException("The standard-operator graph is not available yet.");
}
