using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace Infera.StructuredOutput.Tests;

[Collection(ModelsCollection.Name)]
public sealed class GetResponseOfTTests(ModelsFixture models)
{
    public static TheoryData<string> Models => [.. ModelsFixture.Names];

    [JsonConverter(typeof(JsonStringEnumConverter<Sky>))]
    public enum Sky
    {
        Sunny,
        Cloudy,
        Rainy,
    }

    public sealed record Forecast(Sky Sky, [property: Range(-30, 45)] int Temperature, bool Windy);

    [Theory]
    [MemberData(nameof(Models))]
    public async Task GetResponseAsyncOfT_Record_ReturnsATypedResult(string model)
    {
        var (client, recorder) = models.Client(model);

        var response = await client.GetResponseAsync<Forecast>("What is the forecast?", new ChatOptions { MaxOutputTokens = 80, Temperature = 0f });

        Assert.True(response.TryGetResult(out var forecast), response.Text);
        Assert.InRange(forecast.Temperature, -30, 45);
        Assert.True(Enum.IsDefined(forecast.Sky));
        Assert.Equal(DecodingConstraintKind.JsonSchema, recorder.Requests[0].Options.Constraint?.Kind);
    }

    public sealed record Outlook([property: MinLength(1), MaxLength(3)] Sky[] Skies, [property: StringLength(6)] string Note);

    [Theory]
    [MemberData(nameof(Models))]
    public async Task GetResponseAsyncOfT_BoundedArrayAndString_ReturnsATypedResultEverySeed(string model)
    {
        var (client, _) = models.Client(model);
        foreach (var seed in new long[] { 1, 2, 3 })
        {
            var response = await client.GetResponseAsync<Outlook>("Name some skies", new ChatOptions { MaxOutputTokens = 120, Seed = seed, Temperature = 1f });

            Assert.True(response.TryGetResult(out var outlook), response.Text);
            Assert.InRange(outlook.Skies.Length, 1, 3);
            Assert.InRange(outlook.Note.Length, 0, 6);
        }
    }

    [Fact]
    public async Task GetResponseAsyncOfT_UnboundedArrayCutOff_ReportsLengthAndIncomplete()
    {
        var (client, _) = models.Client(TestModels.Stories260KOnnx);

        // Sky[] has no maxItems: the greedy stories model repeats "Sunny" until the token limit.
        var response = await client.GetResponseAsync<Sky[]>("Name some skies", new ChatOptions { MaxOutputTokens = 40, Temperature = 0f });

        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(true, response.AdditionalProperties?[InferaChatClient.IncompleteOutputKey]);
        Assert.False(response.TryGetResult(out _));
    }
}
