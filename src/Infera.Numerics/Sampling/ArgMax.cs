namespace Infera.Numerics;

/// <summary>Greedy selection: the index of the largest logit.</summary>
public static class ArgMax
{
    /// <summary>
    /// Returns the index of the largest value; ties go to the lowest index, as in ONNX Runtime GenAI's greedy
    /// search (<c>std::max_element</c>). NaN values are ignored; if every value is NaN the result is 0.
    /// </summary>
    /// <param name="values">The values; must not be empty.</param>
    /// <returns>The index of the first maximum.</returns>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty.</exception>
    public static int Compute(ReadOnlySpan<float> values) => ArgMaxKernel.IndexOfMax(values);
}
