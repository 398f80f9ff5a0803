namespace Infera.Numerics.Tests.Sampling;

public sealed class SamplingParametersTests
{
    public static TheoryData<SamplingParameters, string> Invalid() => new()
    {
        { new SamplingParameters { Temperature = -0.1f }, "Temperature" },
        { new SamplingParameters { Temperature = float.NaN }, "Temperature" },
        { new SamplingParameters { TopK = -1 }, "TopK" },
        { new SamplingParameters { TopP = 0f }, "TopP" },
        { new SamplingParameters { TopP = 1.01f }, "TopP" },
        { new SamplingParameters { MinP = -0.01f }, "MinP" },
        { new SamplingParameters { MinP = 1.5f }, "MinP" },
        { new SamplingParameters { RepetitionPenalty = 0f }, "RepetitionPenalty" },
        { new SamplingParameters { FrequencyPenalty = 2.5f }, "FrequencyPenalty" },
        { new SamplingParameters { PresencePenalty = -2.5f }, "PresencePenalty" },
        { new SamplingParameters { TopLogProbabilities = 21 }, "TopLogProbabilities" },
        { new SamplingParameters { LogitBias = new Dictionary<int, float> { [10] = 1f } }, "LogitBias" },
        { new SamplingParameters { LogitBias = new Dictionary<int, float> { [1] = 101f } }, "LogitBias" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_OutOfRange_ThrowsNamingTheParameter(SamplingParameters parameters, string name)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => parameters.Validate(10));

        Assert.Equal(name, exception.ParamName);
    }

    [Fact]
    public void Validate_Defaults_Pass()
    {
        SamplingParameters.Default.Validate(10);
        new SamplingParameters { Temperature = 0f, TopK = 100, TopP = 1f, MinP = 1f, TopLogProbabilities = 20 }.Validate(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => SamplingParameters.Default.Validate(0));
    }
}
