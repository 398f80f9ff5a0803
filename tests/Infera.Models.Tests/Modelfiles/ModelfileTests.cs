namespace Infera.Models.Tests;

public sealed class ModelfileTests
{
    [Fact]
    public void Parse_OllamaSyntax_ReadsEveryInstruction()
    {
        var modelfile = Modelfile.Parse(""""
            # a comment
            from qwen/qwen2.5-0.5b-instruct
            PARAMETER temperature 0.7
            PARAMETER top_k 40
            PARAMETER top_p 0.9
            PARAMETER min_p 0.05
            PARAMETER seed 42
            PARAMETER num_ctx 4096
            PARAMETER num_predict 128
            PARAMETER repeat_penalty 1.1
            PARAMETER stop "<|im_end|>"
            PARAMETER stop User:
            SYSTEM You are a pirate.
            TEMPLATE """{% for m in messages %}{{ m['content'] }}
            {% endfor %}"""
            LICENSE """Apache
            2.0"""
            """");

        var p = modelfile.Parameters;
        Assert.Equal("qwen/qwen2.5-0.5b-instruct", modelfile.From);
        Assert.Equal((0.7f, 40, 0.9f, 0.05f, 42, 4096, 128, 1.1f), (p.Temperature, p.TopK, p.TopP, p.MinP, p.Seed, p.ContextLength, p.MaxOutputTokens, p.RepeatPenalty));
        Assert.Equal(["<|im_end|>", "User:"], p.Stop);
        Assert.Equal("You are a pirate.", modelfile.System);
        Assert.Equal("{% for m in messages %}{{ m['content'] }}\n{% endfor %}", modelfile.Template);
        Assert.Equal("Apache\n2.0", modelfile.License);
    }

    [Fact]
    public void ToString_ParsesBackToTheSameModelfile()
    {
        var original = Modelfile.Parse("FROM x\nPARAMETER temperature 0.5\nPARAMETER stop \" end\"\nSYSTEM \"\"\"two\nlines\"\"\"\nTEMPLATE {{ messages[0]['content'] }}\n");

        var again = Modelfile.Parse(original.ToString());

        Assert.Equal(original.ToString(), again.ToString());
        Assert.Equal([" end"], again.Parameters.Stop);
        Assert.Equal("two\nlines", again.System);
    }

    [Theory]
    [InlineData("TEMPLATE {{ .Prompt }}", "Go template")]
    [InlineData("TEMPLATE \"\"\"{{- range .Messages }}{{ .Content }}{{ end }}\"\"\"", "Go template")]
    [InlineData("TEMPLATE {{ if .System }}x{{ end }}", "Go template")]
    [InlineData("ADAPTER ./lora.gguf", "ADAPTER")]
    [InlineData("MESSAGE user hi", "MESSAGE")]
    [InlineData("QUANTIZE q4", "unknown instruction 'QUANTIZE'")]
    [InlineData("PARAMETER mirostat 2", "unknown parameter 'mirostat'")]
    [InlineData("PARAMETER top_p 2", "top_p must be a number from 0 to 1")]
    [InlineData("PARAMETER num_ctx -5", "num_ctx must be an integer")]
    [InlineData("PARAMETER temperature", "needs a name and a value")]
    [InlineData("SYSTEM \"\"\"never closed", "never closed")]
    public void Parse_InvalidLine_ErrorNamesTheLineAndTheProblem(string line, string message)
    {
        var error = Assert.Throws<ModelLibraryException>(() => Modelfile.Parse("FROM x\n" + line + "\n"));

        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_JinjaTemplate_Accepted()
    {
        var modelfile = Modelfile.Parse("TEMPLATE \"\"\"{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ message['content'] }}{% endif %}{% endfor %}\"\"\"");

        Assert.StartsWith("{{ bos_token }}", modelfile.Template, StringComparison.Ordinal);
    }
}
