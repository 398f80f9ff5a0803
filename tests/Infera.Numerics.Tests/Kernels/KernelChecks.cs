using System.Runtime.Intrinsics;

namespace Infera.Numerics.Tests;

/// <summary>
/// Kernel checks against plain scalar references, for every length 0..256 and a few large ones. They run in the
/// test process and again in child processes with vector ISAs disabled (see <see cref="IsaTests"/>).
/// </summary>
internal static class KernelChecks
{
    public static string Isa =>
        $"v512={Vector512.IsHardwareAccelerated} v256={Vector256.IsHardwareAccelerated} v128={Vector128.IsHardwareAccelerated}";

    public static IEnumerable<(string Name, Func<IEnumerable<string>> Run)> All()
    {
        yield return ("ScaledExp", ScaledExp);
        yield return ("ExpSum", ExpSum);
        yield return ("SamplingWeights", SamplingWeights);
        yield return ("Max", Max);
        yield return ("ArgMax", ArgMax);
        yield return ("FirstGreater", FirstGreater);
        yield return ("SumAtLeast", SumAtLeast);
        yield return ("BlockQuantization", Quantization.Int4Checks.All);
    }

    public static IEnumerable<string> ScaledExp()
    {
        foreach (var n in TestData.Lengths())
        {
            var x = TestData.Normal(n, (ulong)n, 4f);
            var max = n == 0 ? 0f : x.Max();
            const float scale = 1f / 0.7f;
            var destination = new float[n];
            var sum = ScaledExpKernel.Compute(x, max, scale, destination);
            var referenceSum = 0.0;
            string? firstMismatch = null;
            for (var i = 0; i < n; i++)
            {
                // The kernel's argument is rounded to float before exp; the reference exponentiates that argument.
                var expected = Math.Exp((x[i] - max) * scale);
                referenceSum += expected;
                if (firstMismatch is null && !Close(destination[i], expected, 1e-6))
                {
                    firstMismatch = $"ScaledExp n={n} i={i}: {destination[i]} vs {expected}";
                }
            }

            if (firstMismatch is not null)
            {
                yield return firstMismatch;
            }

            if (!Close(sum, referenceSum, 2e-6))
            {
                yield return $"ScaledExp n={n} sum {sum} vs {referenceSum}";
            }

            // In place: the overlapping tail must still see the original inputs.
            var inPlace = (float[])x.Clone();
            var inPlaceSum = ScaledExpKernel.Compute(inPlace, max, scale, inPlace);
            if (!inPlace.AsSpan().SequenceEqual(destination) || inPlaceSum != sum)
            {
                yield return $"ScaledExp n={n}: in-place result differs";
            }
        }
    }

    public static IEnumerable<string> ExpSum()
    {
        foreach (var n in TestData.Lengths())
        {
            var x = TestData.Normal(n, (ulong)n + 1000, 3f);
            var max = n == 0 ? 0f : x.Max();
            var sum = ExpSumKernel.Sum(x, max, 1f);
            var reference = x.Sum(v => Math.Exp(v - max));
            if (!Close(sum, reference, 2e-6))
            {
                yield return $"ExpSum n={n}: {sum} vs {reference}";
            }
        }
    }

    public static IEnumerable<string> SamplingWeights()
    {
        foreach (var n in TestData.Lengths())
        {
            var x = TestData.Normal(n, (ulong)n + 500, 6f);
            if (n > 2)
            {
                x[1] = float.NegativeInfinity;
                x[2] = x.Max() - 200f;
            }

            var max = n == 0 ? 0f : x.Max();
            const float scale = 1f / 0.7f;
            var destination = new float[n];
            var sum = SamplingWeightsKernel.Compute(x, max, scale, destination);
            var referenceSum = 0.0;
            string? firstMismatch = null;
            for (var i = 0; i < n; i++)
            {
                // Documented bound: relative error about 2e-7 + |t| × 6e-8, t the base-2 exponent.
                var t = (x[i] - max) * scale * 1.4426950408889634;
                var expected = t < -126 ? 0 : Math.Pow(2, t);
                referenceSum += expected;
                if (firstMismatch is null && !Close(destination[i], expected, 3e-7 + (Math.Abs(t) * 1e-7)))
                {
                    firstMismatch = $"SamplingWeights n={n} i={i}: {destination[i]} vs {expected}";
                }

                // Every width gives the bits of the scalar form.
                var scalar = SamplingWeightsKernel.Exp2((x[i] - max) * (scale * 1.44269504088896341f));
                if (firstMismatch is null && BitConverter.SingleToInt32Bits(scalar) != BitConverter.SingleToInt32Bits(destination[i]))
                {
                    firstMismatch = $"SamplingWeights n={n} i={i}: vector {destination[i]} vs scalar {scalar}";
                }
            }

            if (firstMismatch is not null)
            {
                yield return firstMismatch;
            }

            if (!Close(sum, referenceSum, 2e-6))
            {
                yield return $"SamplingWeights n={n} sum {sum} vs {referenceSum}";
            }

            var inPlace = (float[])x.Clone();
            var inPlaceSum = SamplingWeightsKernel.Compute(inPlace, max, scale, inPlace);
            if (!inPlace.AsSpan().SequenceEqual(destination) || inPlaceSum != sum)
            {
                yield return $"SamplingWeights n={n}: in-place result differs";
            }
        }
    }

    public static IEnumerable<string> Max()
    {
        foreach (var n in TestData.Lengths().Where(n => n > 0))
        {
            foreach (var x in new[] { TestData.Normal(n, (ulong)n + 800), TestData.WithTies(n, (ulong)n, 3) })
            {
                if (MaxKernel.Max(x) != x.Max())
                {
                    yield return $"Max n={n}: {MaxKernel.Max(x)} vs {x.Max()}";
                }
            }

            var tail = new float[n];
            Array.Fill(tail, float.NegativeInfinity);
            tail[n - 1] = 1f;
            if (MaxKernel.Max(tail) != 1f)
            {
                yield return $"Max n={n}: maximum in the last element missed";
            }
        }
    }

    public static IEnumerable<string> ArgMax()
    {
        foreach (var n in TestData.Lengths().Where(n => n > 0))
        {
            foreach (var x in new[] { TestData.Normal(n, (ulong)n), TestData.WithTies(n, (ulong)n, 3), TestData.WithTies(n, (ulong)n, 1) })
            {
                var expected = ReferenceArgMax(x);
                var actual = ArgMaxKernel.IndexOfMax(x);
                if (actual != expected)
                {
                    yield return $"ArgMax n={n}: {actual} vs {expected}";
                }
            }

            // The maximum in the overlapping tail only, and NaN / -infinity handling.
            var tail = new float[n];
            Array.Fill(tail, float.NegativeInfinity);
            tail[n - 1] = 1f;
            if (ArgMaxKernel.IndexOfMax(tail) != n - 1)
            {
                yield return $"ArgMax n={n}: maximum in the last element missed";
            }

            var withNaN = TestData.Normal(n, (ulong)n + 7);
            var expectedNaN = ReferenceArgMax(withNaN);
            withNaN[(expectedNaN + 1) % n] = float.NaN;
            var expectedAfterNaN = ReferenceArgMax(withNaN);
            if (ArgMaxKernel.IndexOfMax(withNaN) != expectedAfterNaN)
            {
                yield return $"ArgMax n={n}: NaN not ignored";
            }
        }
    }

    public static IEnumerable<string> FirstGreater()
    {
        foreach (var n in TestData.Lengths())
        {
            var x = TestData.Normal(n, (ulong)n + 2000);
            foreach (var threshold in new[] { -10f, 0f, 1.5f, 2.5f, 10f })
            {
                var expected = Array.FindIndex(x, v => v > threshold);
                var actual = FirstGreaterKernel.IndexOfFirstGreater(x, threshold);
                if (actual != expected)
                {
                    yield return $"FirstGreater n={n} t={threshold}: {actual} vs {expected}";
                }
            }
        }
    }

    public static IEnumerable<string> SumAtLeast()
    {
        foreach (var n in TestData.Lengths())
        {
            var x = TestData.Normal(n, (ulong)n + 3000);
            foreach (var threshold in new[] { float.NegativeInfinity, -0.5f, 0f, 1f, 10f })
            {
                var expected = x.Where(v => v >= threshold).Sum(v => (double)v);
                var actual = SumAtLeastKernel.SumAtLeast(x, threshold);
                var magnitude = x.Sum(v => Math.Abs((double)v));
                if (Math.Abs(actual - expected) > 1e-5 * Math.Max(1, magnitude))
                {
                    yield return $"SumAtLeast n={n} t={threshold}: {actual} vs {expected}";
                }
            }
        }
    }

    public static int ReferenceArgMax(float[] x)
    {
        var best = -1;
        for (var i = 0; i < x.Length; i++)
        {
            if (!float.IsNaN(x[i]) && (best < 0 || x[i] > x[best]))
            {
                best = i;
            }
        }

        return best < 0 ? 0 : best;
    }

    public static bool Close(double actual, double expected, double relative) =>
        Math.Abs(actual - expected) <= relative * Math.Max(Math.Abs(expected), 1e-30) || (actual == 0 && Math.Abs(expected) < 1e-37);
}
