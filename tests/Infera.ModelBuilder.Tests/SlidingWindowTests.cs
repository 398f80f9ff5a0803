namespace Infera.ModelBuilder.Tests;

/// <summary>
/// Sliding-window attention as Hugging Face transformers applies it, checked against <see cref="HuggingFaceForward"/>
/// on tiny random checkpoints with a window of 8 and 20 tokens: Phi-3 windows every layer whenever <c>sliding_window</c>
/// is set; Qwen2 windows only with <c>use_sliding_window</c>, and then only the layers from <c>max_window_layers</c> on,
/// or those <c>layer_types</c> marks <c>sliding_attention</c>.
/// </summary>
public sealed class SlidingWindowTests
{
    private static readonly int[] Tokens = [1, 5, 77, 200, 13, 299, 42, 8, 150, 151, 152, 17, 230, 64, 99, 120, 3, 250, 31, 180];

    [Theory]
    [InlineData("phi3", GraphStyle.Fused)]
    [InlineData("phi3", GraphStyle.Standard)]
    [InlineData("qwen2-max-window-layers", GraphStyle.Fused)]
    [InlineData("qwen2-max-window-layers", GraphStyle.Standard)]
    [InlineData("qwen2-layer-types", GraphStyle.Fused)]
    [InlineData("qwen2-layer-types", GraphStyle.Standard)]
    [InlineData("qwen2-use-sliding-window-false", GraphStyle.Fused)]
    public async Task ConvertHuggingFace_SlidingWindowConfig_LogitsMatchIndependentForwardWithTransformersWindows(string config, GraphStyle style)
    {
        var (architecture, window, edit, windows, wrong) = Case(config);
        using var temp = new TempDirectory();
        using var source = HuggingFaceConversionTests.Source(architecture, window);
        HuggingFaceFolder.Write(temp.Combine("hf"), source, editConfig: edit);

        var result = await ModelConverter.ConvertHuggingFaceAsync(temp.Combine("hf"), temp.Combine("out"), new ConversionOptions { GraphStyle = style });
        var expected = HuggingFaceForward.Run(temp.Combine("hf"), Tokens, windows);

        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(GenAI.StepLogits(result.OutputDirectory, Tokens), expected), 0, 1e-4);
        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(GenAI.PromptLogits(result.OutputDirectory, Tokens), expected), 0, 1e-4);

        // The layers' windows matter here: the other plausible readings of the config give clearly other logits.
        foreach (var other in wrong)
        {
            Assert.True(ReferenceLogitsTests.MaxRelativeError(HuggingFaceForward.Run(temp.Combine("hf"), Tokens, other), expected) > 1e-2);
        }
    }

    private static (ModelArchitecture Architecture, int? Window, Action<Dictionary<string, object>>? Edit, int?[] Windows, int?[][] Wrong) Case(string config) => config switch
    {
        // Phi-3-mini-4k-instruct ships sliding_window 2047 with a 4,096 context; here 8 with 64.
        "phi3" => (ModelArchitecture.Phi3, 8, null, [8, 8], [[null, null]]),
        "qwen2-max-window-layers" => (ModelArchitecture.Qwen2, null, c =>
        {
            c["use_sliding_window"] = true;
            c["sliding_window"] = 8;
            c["max_window_layers"] = 1;
        }, [null, 8], [[8, 8], [null, null]]),
        "qwen2-layer-types" => (ModelArchitecture.Qwen2, null, c =>
        {
            c["use_sliding_window"] = true;
            c["sliding_window"] = 8;
            c["max_window_layers"] = 1;
            c["layer_types"] = new[] { "sliding_attention", "full_attention" };
        }, [8, null], [[null, 8], [8, 8]]),
        "qwen2-use-sliding-window-false" => (ModelArchitecture.Qwen2, null, c =>
        {
            c["use_sliding_window"] = false;
            c["sliding_window"] = 8;
            c["max_window_layers"] = 0;
        }, [null, null], [[8, 8]]),
        _ => throw new ArgumentOutOfRangeException(nameof(config)),
    };
}
