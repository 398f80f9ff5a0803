using System.Text.Json;

namespace Infera.StructuredOutput.Tests;

public sealed class ToolCallParserTests
{
    [Fact]
    public void Parse_HermesTwoCalls_ReturnsBothWithArguments()
    {
        const string Reply = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";

        var result = ToolCallParser.Parse(Reply, ToolCallFormat.Hermes);

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(["get_weather", "get_time"], result.Calls.Select(c => c.Name));
        Assert.Equal("Paris", ((JsonElement)result.Calls[0].Arguments!["city"]!).GetString());
        Assert.Equal(3, ((JsonElement)result.Calls[0].Arguments!["days"]!).GetInt32());
        Assert.Empty(result.Calls[1].Arguments!);
        Assert.All(result.Calls, c => Assert.StartsWith("call_", c.CallId, StringComparison.Ordinal));
        Assert.NotEqual(result.Calls[0].CallId, result.Calls[1].CallId);
        Assert.Equal("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>", result.Calls[1].RawRepresentation);
        Assert.Equal(string.Empty, result.Text);
    }

    [Fact]
    public void Parse_HermesWithTextBefore_KeepsTheText()
    {
        var result = ToolCallParser.Parse("Let me look that up.\n<tool_call>{\"name\":\"lookup\",\"arguments\":{\"q\":\"x\"}}</tool_call>", ToolCallFormat.Hermes);

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal("lookup", Assert.Single(result.Calls).Name);
        Assert.Equal("Let me look that up.", result.Text);
    }

    [Fact]
    public void Parse_HermesArgumentsAsString_ParsesTheInnerObject()
    {
        var result = ToolCallParser.Parse("<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}</tool_call>", ToolCallFormat.Hermes);

        Assert.Equal(1, ((JsonElement)Assert.Single(result.Calls).Arguments!["a"]!).GetInt32());
    }

    [Fact]
    public void Parse_Llama3Json_ReadsParameters()
    {
        var result = ToolCallParser.Parse("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}", ToolCallFormat.Llama3Json);

        Assert.True(result.IsSuccess, result.Error);
        var call = Assert.Single(result.Calls);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Oslo", ((JsonElement)call.Arguments!["city"]!).GetString());
    }

    [Fact]
    public void Parse_Llama3JsonAfterPythonTag_ReadsTheCall()
    {
        var result = ToolCallParser.Parse("<|python_tag|>{\"name\": \"search\", \"parameters\": {\"query\": \"dotnet\"}}", ToolCallFormat.Llama3Json);

        Assert.Equal("search", Assert.Single(result.Calls).Name);
    }

    [Fact]
    public void Parse_Llama3PlainText_IsText()
    {
        var result = ToolCallParser.Parse("The weather is fine.", ToolCallFormat.Llama3Json);

        Assert.True(result.IsSuccess);
        Assert.Empty(result.Calls);
        Assert.Equal("The weather is fine.", result.Text);
    }

    [Fact]
    public void Parse_MistralList_ReturnsEveryCallWithNineCharacterIds()
    {
        var result = ToolCallParser.Parse("[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {\"x\": 1}}, {\"name\": \"b\", \"arguments\": {\"y\": [1, 2]}}]", ToolCallFormat.Mistral);

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(["a", "b"], result.Calls.Select(c => c.Name));
        Assert.All(result.Calls, c => Assert.Matches("^[A-Za-z0-9]{9}$", c.CallId));
        Assert.Equal(2, ((JsonElement)result.Calls[1].Arguments!["y"]!).GetArrayLength());
    }

    [Fact]
    public void Parse_MistralWithoutMarker_ReadsTheBareArray()
    {
        var result = ToolCallParser.Parse(" [{\"name\": \"a\", \"arguments\": {}}]", ToolCallFormat.Mistral);

        Assert.Equal("a", Assert.Single(result.Calls).Name);
    }

    [Fact]
    public void Parse_Phi4Functools_ReturnsTheCalls()
    {
        var result = ToolCallParser.Parse("functools[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}, {\"name\": \"get_time\", \"arguments\": {\"zone\": \"CET\"}}]", ToolCallFormat.Phi4);

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(["get_weather", "get_time"], result.Calls.Select(c => c.Name));
    }

    [Fact]
    public void Parse_OpenAiShapedCall_ReadsTheFunctionObject()
    {
        var result = ToolCallParser.Parse("<tool_call>{\"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": {\"k\": true}}}</tool_call>", ToolCallFormat.Hermes);

        Assert.True(((JsonElement)Assert.Single(result.Calls).Arguments!["k"]!).GetBoolean());
    }

    [Theory]
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par", "not closed")]
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}", "</tool_call>")]
    [InlineData("<tool_call>{\"arguments\": {}}</tool_call>", "no \"name\"")]
    [InlineData("<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>", "not an object")]
    [InlineData("<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1,}}</tool_call>", "not valid JSON")]
    [InlineData("<tool_call>get_weather(city=\"Paris\")</tool_call>", "expected a JSON object")]
    public void Parse_MalformedHermes_ReportsErrorAndKeepsTheText(string reply, string expectedError)
    {
        var result = ToolCallParser.Parse(reply, ToolCallFormat.Hermes);

        Assert.False(result.IsSuccess);
        Assert.Contains(expectedError, result.Error, StringComparison.Ordinal);
        Assert.StartsWith("Malformed tool call:", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Calls);
        Assert.Equal(reply, result.Text);
        Assert.Equal(reply, result.RawText);
    }

    [Fact]
    public void Parse_SecondHermesCallMalformed_KeepsTheFirstCallAndTheRestAsText()
    {
        const string Second = "<tool_call>{\"name\": \"b\", \"arguments\": {";
        var result = ToolCallParser.Parse("<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call>\n" + Second, ToolCallFormat.Hermes);

        Assert.False(result.IsSuccess);
        Assert.Equal("a", Assert.Single(result.Calls).Name);
        Assert.Equal(Second, result.Text.Trim());
    }

    [Theory]
    [InlineData("[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}", "not closed with ']'")]
    [InlineData("[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}} {\"name\": \"b\"}]", "expected ','")]
    [InlineData("[TOOL_CALLS]{\"name\": \"a\"}", "expected '['")]
    public void Parse_MalformedMistral_ReportsError(string reply, string expectedError)
    {
        var result = ToolCallParser.Parse(reply, ToolCallFormat.Mistral);

        Assert.False(result.IsSuccess);
        Assert.Contains(expectedError, result.Error, StringComparison.Ordinal);
        Assert.Contains(reply.TrimStart()[..12], result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MalformedPhi4_ReportsErrorAndKeepsTheText()
    {
        const string Reply = "functools[{\"name\": \"a\", \"arguments\": {\"x\": }]";

        var result = ToolCallParser.Parse(Reply, ToolCallFormat.Phi4);

        Assert.False(result.IsSuccess);
        Assert.Equal(Reply, result.Text);
    }

    [Theory]
    [InlineData(null, "hermes")]
    [InlineData("{{ '<tool_call>' }}", "hermes")]
    [InlineData("{% if tools %}[AVAILABLE_TOOLS]{% endif %}[TOOL_CALLS]", "mistral")]
    [InlineData("<|start_header_id|>ipython<|end_header_id|>", "llama3_json")]
    [InlineData("{{ '<|tool|>' + tools + '<|/tool|>' }}", "phi4")]
    [InlineData("{{ bos_token + '[INST] ' }}", "hermes")]
    public void Detect_Template_ChoosesTheFormat(string? template, string expected) =>
        Assert.Equal(expected, ToolCallFormat.Detect(template).Name);

    [Fact]
    public void FromName_Unknown_ThrowsNamingTheKnownFormats()
    {
        var ex = Assert.Throws<ArgumentException>(() => ToolCallFormat.FromName("xml"));

        Assert.Contains("hermes, llama3_json, mistral, phi4", ex.Message, StringComparison.Ordinal);
    }
}
