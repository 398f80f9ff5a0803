namespace Infera.Server;

/// <summary>A <c>model</c> object.</summary>
internal sealed class ModelCard
{
    public required string Id { get; init; }

    public string Object { get; init; } = "model";

    public required long Created { get; init; }

    public string OwnedBy { get; init; } = "infera";
}
