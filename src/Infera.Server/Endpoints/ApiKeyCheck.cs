using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Infera.Server;

/// <summary>Requires <c>Authorization: Bearer KEY</c> when an API key is configured (401 otherwise), comparing keys in constant time.</summary>
internal static class ApiKeyCheck
{
    public static RequestDelegate Require(RequestDelegate next) => async http =>
    {
        var options = http.RequestServices.GetRequiredService<InferaServerOptions>();
        if (options.ApiKey is { } key && !BearerKey.Matches(http.Request.Headers.Authorization.ToString(), key))
        {
            var message = http.Request.Headers.Authorization.Count == 0
                ? "You didn't provide an API key. Send it in the Authorization header as 'Bearer YOUR_KEY'."
                : "Incorrect API key provided.";
            await InferaRequest.WriteErrorAsync(http, new OpenAIErrorException(401, message, OpenAIErrorException.InvalidRequest, null, "invalid_api_key"), options.RetryAfter).ConfigureAwait(false);
            return;
        }

        await next(http).ConfigureAwait(false);
    };
}
