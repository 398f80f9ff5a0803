using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Infera.Server;

/// <summary>Source-generated JSON for every request and response body (snake_case names, nulls omitted unless a property says otherwise).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(CompletionRequest))]
[JsonSerializable(typeof(CompletionResponse))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(HealthStatus))]
internal sealed partial class OpenAIJsonContext : JsonSerializerContext
{
    // Lazily: the generated Default is initialised by a static initializer in another part of this class, in no set order.
    private static JsonTypeInfo<ChatCompletionRequest>? s_checkedChat;
    private static JsonTypeInfo<CompletionRequest>? s_checkedCompletion;

    /// <summary>Gets the contract request bodies of <c>/v1/chat/completions</c> are read with: ranges checked as fields are set.</summary>
    public static JsonTypeInfo<ChatCompletionRequest> CheckedChatCompletionRequest => s_checkedChat ??= Checked<ChatCompletionRequest>();

    /// <summary>Gets the contract request bodies of <c>/v1/completions</c> are read with.</summary>
    public static JsonTypeInfo<CompletionRequest> CheckedCompletionRequest => s_checkedCompletion ??= Checked<CompletionRequest>();

    private static JsonTypeInfo<T> Checked<T>() => (JsonTypeInfo<T>)CheckedOptions.Value.GetTypeInfo(typeof(T));

    private static readonly Lazy<JsonSerializerOptions> CheckedOptions = new(() => RequestJson.CreateOptions(Default!));
}
