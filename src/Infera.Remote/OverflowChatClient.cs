using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Infera.Remote;

/// <summary>
/// A local-first chat client: requests go to the inner (in-process) client, and to the overflow client (such as a
/// <see cref="RemoteChatClient"/>) when the inner one refuses them with <see cref="RequestQueueFullException"/> (its
/// bounded queue is full). The overflow client is not disposed with this one. Build it with <see cref="OverflowChatClientBuilderExtensions.UseOverflow"/>.
/// </summary>
public sealed class OverflowChatClient : DelegatingChatClient
{
    private readonly IChatClient _overflow;
    private long _overflowed;

    /// <summary>Initializes a new instance of the <see cref="OverflowChatClient"/> class.</summary>
    /// <param name="local">The client tried first.</param>
    /// <param name="overflow">The client that takes what <paramref name="local"/> has no room for.</param>
    public OverflowChatClient(IChatClient local, IChatClient overflow)
        : base(local)
    {
        ArgumentNullException.ThrowIfNull(overflow);
        _overflow = overflow;
    }

    /// <summary>Gets how many requests went to the overflow client.</summary>
    public long Overflowed => Interlocked.Read(ref _overflowed);

    /// <inheritdoc/>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? [.. messages];
        try
        {
            return await base.GetResponseAsync(list, options, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestQueueFullException)
        {
            Interlocked.Increment(ref _overflowed);
            return await _overflow.GetResponseAsync(list, options, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? [.. messages];
        var local = base.GetStreamingResponseAsync(list, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        bool full = false;
        bool any;
        try
        {
            try
            {
                any = await local.MoveNextAsync().ConfigureAwait(false);
            }
            catch (RequestQueueFullException)
            {
                full = true;
                any = false;
            }

            if (!full)
            {
                while (any)
                {
                    yield return local.Current;
                    any = await local.MoveNextAsync().ConfigureAwait(false);
                }

                yield break;
            }
        }
        finally
        {
            await local.DisposeAsync().ConfigureAwait(false);
        }

        Interlocked.Increment(ref _overflowed);
        await foreach (var update in _overflow.GetStreamingResponseAsync(list, options, cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }
}

/// <summary>The <see cref="ChatClientBuilder"/> step of <see cref="OverflowChatClient"/>.</summary>
public static class OverflowChatClientBuilderExtensions
{
    /// <summary>Sends what the client being built refuses with <see cref="RequestQueueFullException"/> to <paramref name="overflow"/>:
    /// <c>localClient.AsBuilder().UseOverflow(remoteClient).Build()</c>.</summary>
    /// <param name="builder">The builder of the local client.</param>
    /// <param name="overflow">The client that takes the overflow, such as a <see cref="RemoteChatClient"/>.</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseOverflow(this ChatClientBuilder builder, IChatClient overflow)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(overflow);
        return builder.Use(inner => new OverflowChatClient(inner, overflow));
    }
}
