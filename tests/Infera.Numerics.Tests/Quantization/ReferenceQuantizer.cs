namespace Infera.Numerics.Tests.Quantization;

/// <summary>
/// An independent, deliberately plain transcription of ONNX Runtime's MatMulNBits layout and MLAS blockwise
/// quantization arithmetic, used as the bit-for-bit reference.
/// </summary>
internal static class ReferenceQuantizer
{
    public static (byte[] Packed, float[] Scales, byte[]? ZeroPoints) Quantize(float[] w, int n, int k, int bits, int blockSize, bool symmetric)
    {
        var blocks = (k + blockSize - 1) / blockSize;
        var blob = blockSize * bits / 8;
        var packed = new byte[n * blocks * blob];
        var scales = new float[n * blocks];
        var zpRow = ((blocks * bits) + 7) / 8;
        var zeroPoints = symmetric ? null : Enumerable.Repeat((byte)(bits == 4 ? 0x88 : 0), n * zpRow).ToArray();
        var levels = (1 << bits) - 1;
        var mid = 1 << (bits - 1);
        for (var row = 0; row < n; row++)
        {
            for (var b = 0; b < blocks; b++)
            {
                float lo = float.MaxValue, hi = -float.MaxValue;
                for (var i = b * blockSize; i < Math.Min(k, (b + 1) * blockSize); i++)
                {
                    var v = w[(row * k) + i];
                    if (v < lo)
                    {
                        lo = v;
                    }

                    if (v > hi)
                    {
                        hi = v;
                    }
                }

                float scale;
                int zp;
                if (symmetric)
                {
                    var m = Math.Abs(hi) > Math.Abs(lo) ? hi : lo;
                    scale = m / -mid;
                    zp = mid;
                }
                else
                {
                    lo = Math.Min(lo, 0f);
                    hi = Math.Max(hi, 0f);
                    scale = (hi - lo) / levels;
                    var zpf = scale != 0 ? -lo / scale : 0f;
                    zp = (int)Math.Clamp(MathF.Round(zpf, MidpointRounding.AwayFromZero), 0, levels);
                    var zpIndex = (row * zpRow) + (bits == 4 ? b / 2 : b);
                    if (bits == 8)
                    {
                        zeroPoints![zpIndex] = (byte)zp;
                    }
                    else if (b % 2 == 0)
                    {
                        zeroPoints![zpIndex] = (byte)((zeroPoints[zpIndex] & 0xF0) | zp);
                    }
                    else
                    {
                        zeroPoints![zpIndex] = (byte)((zeroPoints[zpIndex] & 0x0F) | (zp << 4));
                    }
                }

                scales[(row * blocks) + b] = scale == 0 ? 0f : scale;
                var reciprocal = scale != 0 ? 1f / scale : 0f;
                for (var j = 0; j < blockSize; j++)
                {
                    var i = (b * blockSize) + j;
                    var code = i < k
                        ? (int)Math.Clamp(MathF.Round((w[(row * k) + i] * reciprocal) + zp, MidpointRounding.AwayFromZero), 0, levels)
                        : zp;
                    var byteIndex = (row * blocks * blob) + (b * blob) + (bits == 4 ? j / 2 : j);
                    if (bits == 8)
                    {
                        packed[byteIndex] = (byte)code;
                    }
                    else
                    {
                        packed[byteIndex] |= (byte)(j % 2 == 0 ? code : code << 4);
                    }
                }
            }
        }

        return (packed, scales, zeroPoints);
    }
}
