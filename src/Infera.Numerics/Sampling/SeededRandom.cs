using System.Runtime.CompilerServices;

namespace Infera.Numerics;

/// <summary>
/// A seeded pseudo-random source whose sequence is fully specified and therefore identical on every machine,
/// operating system, processor and run: PCG32 (PCG-XSH-RR with 64-bit state and 32-bit output, M. E. O'Neill, 2014).
/// </summary>
/// <remarks>
/// <para>
/// State update: <c>state = state × 6364136223846793005 + increment</c> (mod 2^64), with
/// <c>increment = (stream &lt;&lt; 1) | 1</c>. Output of the old state <c>s</c>:
/// <c>rotr32((uint)(((s &gt;&gt; 18) ^ s) &gt;&gt; 27), (int)(s &gt;&gt; 59))</c>.
/// Seeding follows the reference <c>pcg32_srandom_r(seed, stream)</c>: state = 0, one step, state += seed, one step.
/// With seed 42 and stream 54 the first outputs are 0xA15C02B7, 0x7B47F409, 0xBA1D3330 (the reference demo's values).
/// </para>
/// <para>
/// <see cref="NextSingle"/> is <c>(NextUInt32() &gt;&gt; 8) × 2^-24</c>; <see cref="NextDouble"/> is
/// <c>((a &gt;&gt; 5) × 2^26 + (b &gt;&gt; 6)) × 2^-53</c> for two consecutive outputs a, b; both lie in [0, 1).
/// <see cref="NextInt32(int)"/> uses Lemire's multiply-and-reject method, so it is unbiased and also exact.
/// </para>
/// <para>Not thread-safe; not suitable for cryptography.</para>
/// </remarks>
public sealed class SeededRandom
{
    private const ulong Multiplier = 6364136223846793005UL;
    private ulong _state;
    private readonly ulong _increment;

    /// <summary>Initializes a new instance of the <see cref="SeededRandom"/> class.</summary>
    /// <param name="seed">The seed; every value, 0 included, is valid.</param>
    /// <param name="stream">The stream selector; different streams give independent sequences for one seed.</param>
    public SeededRandom(ulong seed, ulong stream = 0)
    {
        _increment = (stream << 1) | 1UL;
        _state = 0;
        Step();
        _state += seed;
        Step();
    }

    /// <summary>Returns the next 32 random bits.</summary>
    /// <returns>A uniformly distributed 32-bit value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint NextUInt32()
    {
        var old = _state;
        Step();
        var xorShifted = (uint)(((old >> 18) ^ old) >> 27);
        var rotation = (int)(old >> 59);
        return uint.RotateRight(xorShifted, rotation);
    }

    /// <summary>Returns a uniformly distributed single-precision value in [0, 1) with 24 random bits.</summary>
    /// <returns>A value in [0, 1).</returns>
    public float NextSingle() => (NextUInt32() >> 8) * (1f / 16777216f);

    /// <summary>Returns a uniformly distributed double-precision value in [0, 1) with 53 random bits.</summary>
    /// <returns>A value in [0, 1).</returns>
    public double NextDouble()
    {
        ulong a = NextUInt32() >> 5;
        ulong b = NextUInt32() >> 6;
        return ((a << 26) + b) * (1.0 / 9007199254740992.0);
    }

    /// <summary>Returns a uniformly distributed integer in [0, <paramref name="maxExclusive"/>).</summary>
    /// <param name="maxExclusive">The exclusive upper bound; must be positive.</param>
    /// <returns>A value in [0, <paramref name="maxExclusive"/>).</returns>
    public int NextInt32(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        var bound = (uint)maxExclusive;
        var product = (ulong)NextUInt32() * bound;
        var low = (uint)product;
        if (low < bound)
        {
            var threshold = (0u - bound) % bound;
            while (low < threshold)
            {
                product = (ulong)NextUInt32() * bound;
                low = (uint)product;
            }
        }

        return (int)(product >> 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Step() => _state = unchecked((_state * Multiplier) + _increment);
}
