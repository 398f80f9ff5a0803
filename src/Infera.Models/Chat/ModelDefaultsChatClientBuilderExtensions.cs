using Infera.Models;

namespace Microsoft.Extensions.AI;

/// <summary>Adds <see cref="ModelDefaultsChatClient"/> to a chat client pipeline.</summary>
public static class ModelDefaultsChatClientBuilderExtensions
{
    /// <summary>Applies a library model's Modelfile defaults (parameters and system message) to every request.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="model">The resolved model.</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseModelDefaults(this ChatClientBuilder builder, ResolvedModel model)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(model);
        return builder.Use(inner => new ModelDefaultsChatClient(inner, model));
    }
}
