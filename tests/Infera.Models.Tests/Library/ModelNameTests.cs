namespace Infera.Models.Tests;

public sealed class ModelNameTests
{
    [Theory]
    [InlineData("llama3", "llama3", "latest")]
    [InlineData("Llama3:8B", "llama3", "8b")]
    [InlineData("Qwen/Qwen2.5-0.5B-Instruct", "qwen/qwen2.5-0.5b-instruct", "latest")]
    [InlineData("hf.co/org/name:Q4_K_M", "hf.co/org/name", "q4_k_m")]
    [InlineData("my_model.v2:tag-1", "my_model.v2", "tag-1")]
    public void Parse_ValidNames_NormalizesAndImpliesLatest(string text, string repository, string tag)
    {
        var name = ModelName.Parse(text);

        Assert.Equal((repository, tag), (name.Repository, name.Tag));
        Assert.Equal(repository + ":" + tag, name.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a/b/c/d")]
    [InlineData("../escape")]
    [InlineData("name:")]
    [InlineData("-dash")]
    [InlineData("a//b")]
    [InlineData("name:tag/x")]
    public void TryParse_InvalidNames_False(string text)
    {
        Assert.False(ModelName.TryParse(text, out _));
        Assert.Throws<ArgumentException>(() => ModelName.Parse(text));
    }
}
