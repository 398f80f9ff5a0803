namespace Infera;

/// <summary>Progress of loading a model.</summary>
/// <param name="Stage">What is being done.</param>
/// <param name="Fraction">How much of the load is done, from 0 to 1.</param>
public readonly record struct ModelLoadProgress(string Stage, double Fraction);
