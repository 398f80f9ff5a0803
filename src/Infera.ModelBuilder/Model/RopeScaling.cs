namespace Infera.ModelBuilder;

/// <summary>Llama 3 rope scaling: frequencies below the low-frequency wavelength are divided by <see cref="Factor"/>, smoothly in between.</summary>
internal sealed record RopeScaling(double Factor, double LowFrequencyFactor, double HighFrequencyFactor, int OriginalContextLength);
