namespace Infera.ModelBuilder;

/// <summary>Rotary embedding inverse frequencies, with Llama 3 scaling when configured.</summary>
internal static class RotaryFrequencies
{
    public static double[] Inverse(TransformerConfig config)
    {
        int headSize = config.EffectiveHeadSize;
        var result = new double[headSize / 2];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / headSize);
        }

        if (config.RopeScaling is { } s)
        {
            double lowWavelength = s.OriginalContextLength / s.LowFrequencyFactor;
            double highWavelength = s.OriginalContextLength / s.HighFrequencyFactor;
            for (int i = 0; i < result.Length; i++)
            {
                double wavelength = 2 * Math.PI / result[i];
                if (wavelength > lowWavelength)
                {
                    result[i] /= s.Factor;
                }
                else if (wavelength >= highWavelength)
                {
                    double smooth = ((s.OriginalContextLength / wavelength) - s.LowFrequencyFactor) / (s.HighFrequencyFactor - s.LowFrequencyFactor);
                    result[i] = ((1 - smooth) * result[i] / s.Factor) + (smooth * result[i]);
                }
            }
        }

        return result;
    }
}
