namespace Infera.Server;

/// <summary>A <c>model</c> object, with whether the model is loaded now and until when (Infera's additions; OpenAI clients ignore them).</summary>
internal sealed class ModelCard
{
    public required string Id { get; init; }

    public string Object { get; init; } = "model";

    public required long Created { get; init; }

    public string OwnedBy { get; init; } = "infera";

    /// <summary>Gets whether the model is loaded now.</summary>
    public bool Loaded { get; init; }

    /// <summary>Gets whether the model stays loaded for as long as the server runs.</summary>
    public bool Pinned { get; init; }

    /// <summary>Gets when an idle loaded model will be unloaded (Unix seconds); absent while it serves a request, when it is pinned or not loaded.</summary>
    public long? ExpiresAt { get; init; }
}
