namespace Infera.Numerics.Tests;

/// <summary>
/// Entry point of the child processes that <see cref="IsaTests"/> starts with vector ISAs disabled: it runs every
/// kernel check and prints the ISA flags, the failures and digests of sampled tokens and quantized bytes.
/// The test host does not use it.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is not ["isa-check"])
        {
            Console.Error.WriteLine("usage: Infera.Numerics.Tests isa-check");
            return 2;
        }

        TestData.Quick = true;
        Console.WriteLine("ISA " + KernelChecks.Isa);
        var failures = 0;
        foreach (var (name, run) in KernelChecks.All())
        {
            foreach (var failure in run())
            {
                Console.WriteLine("FAIL " + name + ": " + failure);
                failures++;
            }
        }

        Console.WriteLine("TOKENS " + IsaDigests.SampledTokens());
        Console.WriteLine("QUANTIZED " + IsaDigests.Quantized());
        return failures == 0 ? 0 : 1;
    }
}
