using Microsoft.Extensions.AI;

namespace Infera.Models;

/// <summary>A chat client that applies a library model's Modelfile defaults: the parameters fill options the caller left unset, and the <c>SYSTEM</c> message opens conversations that have none.</summary>
/// <remarks>Thread-safe when the inner client is.</remarks>
public sealed class ModelDefaultsChatClient : DelegatingChatClient
{
    private readonly ResolvedModel _model;

    /// <summary>Initializes a new instance of the <see cref="ModelDefaultsChatClient"/> class.</summary>
    /// <param name="innerClient">The client to call.</param>
    /// <param name="model">The model whose defaults apply.</param>
    public ModelDefaultsChatClient(IChatClient innerClient, ResolvedModel model)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <inheritdoc />
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(WithSystem(messages, options), _model.ApplyTo(options), cancellationToken);

    /// <inheritdoc />
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetStreamingResponseAsync(WithSystem(messages, options), _model.ApplyTo(options), cancellationToken);

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(ResolvedModel) ? _model : base.GetService(serviceType, serviceKey);
    }

    private IEnumerable<ChatMessage> WithSystem(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (_model.System is not { Length: > 0 } system || options?.Instructions is not null)
        {
            return messages;
        }

        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        return list.Any(m => m.Role == ChatRole.System) ? list : [new ChatMessage(ChatRole.System, system), .. list];
    }
}
