namespace Infera.Server;

/// <summary>A request named a model the server neither pins nor finds in its catalog.</summary>
internal sealed class ServedModelNotFoundException(string name, IReadOnlyList<string> known)
    : Exception($"The model '{name}' does not exist. This server serves: {(known.Count == 0 ? "no models" : string.Join(", ", known))}.")
{
    public string Name { get; } = name;
}
