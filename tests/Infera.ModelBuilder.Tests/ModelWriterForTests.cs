namespace Infera.ModelBuilder.Tests;

/// <summary>Writes a model folder from any weight source, with a synthetic tokenizer.</summary>
internal static class ModelWriterForTests
{
    public static Task<string> WriteAsync(WeightSource source, string folder, ConversionOptions options) => Task.Run(() =>
    {
        var vocabulary = SyntheticVocabulary.Create(source.Config.VocabularySize);
        return ModelFolderWriter.Write(source, dir => HuggingFaceTokenizerWriter.Write(vocabulary, dir, source.Config.ContextLength), folder, options, null, CancellationToken.None).OutputDirectory;
    });
}
