using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Infera.Server;

/// <summary>Ollama's model endpoints over the server's pool and catalog: version, tags, ps, show, pull, create, copy, delete, embed.</summary>
internal static class OllamaModelEndpoints
{
    /// <summary>The Ollama API level these endpoints follow (clients compare it to decide what they may call).</summary>
    public const string ApiVersion = "0.12.0";

    private static readonly List<string> Capabilities = ["completion", "tools"];

    public static Task VersionAsync(HttpContext http) =>
        Results.Json(new OllamaVersion { Version = ApiVersion }, OllamaJsonContext.Default.OllamaVersion).ExecuteAsync(http);

    public static async Task TagsAsync(HttpContext http)
    {
        using var call = new InferaRequest(http);
        try
        {
            var models = await call.Registry.ListAsync(call.Stopping).ConfigureAwait(false);
            var list = new OllamaModelList { Models = [.. models.Select(m => Describe(m, running: false))] };
            await Results.Json(list, OllamaJsonContext.Default.OllamaModelList).ExecuteAsync(http).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await OllamaFailure.FailAsync(call, ex).ConfigureAwait(false);
        }
    }

    public static Task PsAsync(HttpContext http)
    {
        var registry = http.RequestServices.GetRequiredService<InferaModelRegistry>();
        var list = new OllamaModelList { Models = [.. registry.Loaded().Select(m => Describe(m, running: true))] };
        return Results.Json(list, OllamaJsonContext.Default.OllamaModelList).ExecuteAsync(http);
    }

    public static async Task ShowAsync(HttpContext http)
    {
        using var call = new InferaRequest(http);
        try
        {
            var request = await call.ReadJsonAsync(OllamaJsonContext.Default.OllamaModelRequest).ConfigureAwait(false);
            var model = await FindAsync(call, request.Target).ConfigureAwait(false);
            var folder = model.Folder;
            var entry = model.Entry;
            var response = new OllamaShowResponse
            {
                License = entry?.License,
                Modelfile = ModelfileOf(model),
                Parameters = string.Join('\n', (entry?.Parameters ?? []).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key,-30} {Quote(p.Key, p.Value)}"))),
                Template = entry?.Template ?? folder.ChatTemplate ?? string.Empty,
                System = entry?.System,
                Details = Details(model),
                ModelInfo = ModelInfo(model),
                Capabilities = Capabilities,
                ModifiedAt = OllamaGenerationEndpoints.Timestamp(folder.ModifiedAt),
            };
            await Results.Json(response, OllamaJsonContext.Default.OllamaShowResponse).ExecuteAsync(http).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await OllamaFailure.FailAsync(call, ex).ConfigureAwait(false);
        }
    }

    public static async Task DeleteAsync(HttpContext http)
    {
        using var call = new InferaRequest(http);
        try
        {
            var request = await call.ReadJsonAsync(OllamaJsonContext.Default.OllamaModelRequest).ConfigureAwait(false);
            var name = Required(request.Target);
            if (call.Registry.Find(name) is { } pinned)
            {
                throw OpenAIErrorException.BadRequest($"model '{pinned.Name}' is pinned by the server (--model); it cannot be deleted while served.", "model");
            }

            var catalog = CatalogOf(call);
            await call.Registry.UnloadAsync(name).ConfigureAwait(false);
            if (!await catalog.DeleteAsync(name, call.Stopping).ConfigureAwait(false))
            {
                throw new ServedModelNotFoundException(name, []);
            }

            http.Response.StatusCode = StatusCodes.Status200OK;
        }
        catch (Exception ex)
        {
            await OllamaFailure.FailAsync(call, ex).ConfigureAwait(false);
        }
    }

    public static async Task CopyAsync(HttpContext http)
    {
        using var call = new InferaRequest(http);
        try
        {
            var request = await call.ReadJsonAsync(OllamaJsonContext.Default.OllamaCopyRequest).ConfigureAwait(false);
            var source = Required(request.Source, "source");
            var destination = Required(request.Destination, "destination");
            if (!await CatalogOf(call).CopyAsync(source, destination, call.Stopping).ConfigureAwait(false))
            {
                throw new ServedModelNotFoundException(source, []);
            }

            http.Response.StatusCode = StatusCodes.Status200OK;
        }
        catch (Exception ex)
        {
            await OllamaFailure.FailAsync(call, ex).ConfigureAwait(false);
        }
    }

    public static async Task PullAsync(HttpContext http)
    {
        using var call = new InferaRequest(http);
        try
        {
            var request = await call.ReadJsonAsync(OllamaJsonContext.Default.OllamaModelRequest).ConfigureAwait(false);
            var name = Required(request.Target);
            var catalog = CatalogOf(call);
            await RunWithProgressAsync(call, request.Stream != false, progress => catalog.PullAsync(name, progress, call.Stopping)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await OllamaFailure.FailAsync(call, ex).ConfigureAwait(false);
        }
    }

    public static async Task CreateAsync(HttpContext http)
    {
        using var call = new InferaRequest(http);
        try
        {
            var request = await call.ReadJsonAsync(OllamaJsonContext.Default.OllamaCreateRequest).ConfigureAwait(false);
            var name = Required(string.IsNullOrWhiteSpace(request.Model) ? request.Name : request.Model);
            if (request.Files is { ValueKind: not JsonValueKind.Null } || request.Adapters is { ValueKind: not JsonValueKind.Null })
            {
                throw OpenAIErrorException.BadRequest("files and adapters (uploaded blobs) are not supported: create from a model this server has, with from or a Modelfile's FROM.", "files");
            }

            if (!string.IsNullOrEmpty(request.Quantize))
            {
                throw OpenAIErrorException.BadRequest("quantize is not supported by /api/create; convert with 'infera convert --precision' instead.", "quantize");
            }

            var modelfile = request.Modelfile ?? ModelfileFrom(request);
            var catalog = CatalogOf(call);
            await RunWithProgressAsync(call, request.Stream != false, progress => catalog.CreateAsync(name, modelfile, progress, call.Stopping)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await OllamaFailure.FailAsync(call, ex).ConfigureAwait(false);
        }
    }

    public static async Task EmbedAsync(HttpContext http)
    {
        using var call = new InferaRequest(http);
        try
        {
            var request = await call.ReadJsonAsync(OllamaJsonContext.Default.OllamaEmbedRequest).ConfigureAwait(false);
            var model = await FindAsync(call, request.Model).ConfigureAwait(false);
            throw OpenAIErrorException.BadRequest($"model '{model.Name}' does not support embeddings: it is a text-generation model (capabilities: {string.Join(", ", Capabilities)}).", "model");
        }
        catch (Exception ex)
        {
            await OllamaFailure.FailAsync(call, ex).ConfigureAwait(false);
        }
    }

    private static async Task RunWithProgressAsync(InferaRequest call, bool stream, Func<IProgress<ModelPullProgress>, Task> operation)
    {
        var lines = Channel.CreateUnbounded<ModelPullProgress>(new UnboundedChannelOptions { SingleReader = true });
        var progress = new ChannelProgress(lines.Writer);
        var work = Task.Run(async () =>
        {
            try
            {
                await operation(progress).ConfigureAwait(false);
                lines.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                lines.Writer.TryComplete(ex);
            }
        });

        // Like the generation endpoints, wait for the first line so that an immediate failure still gets its status code.
        var reader = lines.Reader;
        var started = false;
        ModelPullProgress? last = null;
        while (await reader.WaitToReadAsync(call.Stopping).ConfigureAwait(false))
        {
            while (reader.TryRead(out var line))
            {
                last = line;
                if (stream)
                {
                    if (!started)
                    {
                        Ndjson.Start(call.Http);
                        started = true;
                    }

                    await Ndjson.WriteAsync(call.Http.Response, Line(line), OllamaJsonContext.Default.OllamaProgress, call.Stopping).ConfigureAwait(false);
                }
            }
        }

        await work.ConfigureAwait(false);
        if (last?.Status != "success")
        {
            last = new ModelPullProgress("success");
            if (stream)
            {
                if (!started)
                {
                    Ndjson.Start(call.Http);
                }

                await Ndjson.WriteAsync(call.Http.Response, Line(last), OllamaJsonContext.Default.OllamaProgress, call.Stopping).ConfigureAwait(false);
            }
        }

        if (!stream)
        {
            await Results.Json(Line(last), OllamaJsonContext.Default.OllamaProgress).ExecuteAsync(call.Http).ConfigureAwait(false);
        }
    }

    private static OllamaProgress Line(ModelPullProgress progress) =>
        new() { Status = progress.Status, Digest = progress.Digest, Total = progress.Total, Completed = progress.Completed };

    private static async Task<ServedModel> FindAsync(InferaRequest call, string? name) =>
        await call.Registry.FindAnyAsync(Required(name), call.Stopping).ConfigureAwait(false) ?? throw new ServedModelNotFoundException(name!, []);

    private static IModelCatalog CatalogOf(InferaRequest call) => call.Registry.Catalog
        ?? throw new NotSupportedException("This server has no model library: it serves only the models given with --model. Start it without --model (or with --models-dir) to manage models by name.");

    private static string Required(string? name, string param = "model") =>
        string.IsNullOrWhiteSpace(name) ? throw OpenAIErrorException.BadRequest($"{param} is required.", param) : name;

    private static OllamaModelInfo Describe(ServedModel model, bool running)
    {
        var folder = model.Folder;
        return new OllamaModelInfo
        {
            Name = model.Name,
            Model = model.Name,
            ModifiedAt = running ? null : OllamaGenerationEndpoints.Timestamp(folder.ModifiedAt),
            Size = folder.SizeBytes,
            Digest = folder.Digest,
            Details = Details(model),
            ExpiresAt = running ? OllamaGenerationEndpoints.Timestamp(model.Pinned || model.ExpiresAt is null ? DateTimeOffset.UtcNow.AddYears(100) : model.ExpiresAt.Value) : null,
            SizeVram = running ? 0 : null,
            ContextLength = running ? model.Runner?.Metadata.ContextLength : null,
            Capabilities = running ? null : Capabilities,
        };
    }

    private static OllamaModelDetails Details(ServedModel model)
    {
        var folder = model.Folder;
        return new OllamaModelDetails
        {
            ParentModel = model.Entry?.Source ?? string.Empty,
            Family = folder.Family,
            Families = [folder.Family],
            ParameterSize = string.Empty,
            QuantizationLevel = model.Entry?.Precision ?? string.Empty,
        };
    }

    private static Dictionary<string, object> ModelInfo(ServedModel model)
    {
        var folder = model.Folder;
        var family = folder.Family;
        var info = new Dictionary<string, object>(StringComparer.Ordinal) { ["general.architecture"] = family };
        Add($"{family}.context_length", model.Runner?.Metadata.ContextLength ?? folder.ContextLength);
        Add($"{family}.embedding_length", folder.HiddenSize);
        Add($"{family}.block_count", folder.Layers);
        Add($"{family}.attention.head_count", folder.AttentionHeads);
        Add($"{family}.attention.head_count_kv", folder.KeyValueHeads);
        Add($"{family}.vocab_size", folder.VocabularySize);
        return info;

        void Add(string key, int? value)
        {
            if (value is { } v)
            {
                info[key] = v;
            }
        }
    }

    private static string ModelfileOf(ServedModel model)
    {
        var text = new StringBuilder("# Modelfile generated by Infera\n");
        text.Append("FROM ").Append(model.Folder.Path).Append('\n');
        foreach (var (name, value) in model.Entry?.Parameters ?? [])
        {
            text.Append("PARAMETER ").Append(name).Append(' ').Append(Quote(name, value)).Append('\n');
        }

        if (model.Entry?.System is { } system)
        {
            text.Append("SYSTEM \"\"\"").Append(system).Append("\"\"\"\n");
        }

        return text.ToString();
    }

    private static string Quote(string name, string value) => name == "stop" ? "\"" + value + "\"" : value;

    private static string ModelfileFrom(OllamaCreateRequest request)
    {
        var text = new StringBuilder("FROM ").Append(Required(request.From, "from")).Append('\n');
        foreach (var (name, value) in request.Parameters ?? [])
        {
            var values = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToList() : [value];
            foreach (var item in values)
            {
                text.Append("PARAMETER ").Append(name).Append(' ').Append(item.ValueKind == JsonValueKind.String ? "\"" + item.GetString() + "\"" : item.GetRawText()).Append('\n');
            }
        }

        Block(text, "SYSTEM", request.System);
        Block(text, "TEMPLATE", request.Template);
        var license = request.License is { ValueKind: JsonValueKind.Array } many ? string.Join('\n', many.EnumerateArray().Select(l => l.GetString()))
            : request.License is { ValueKind: JsonValueKind.String } one ? one.GetString() : null;
        Block(text, "LICENSE", license);
        return text.ToString();

        static void Block(StringBuilder text, string instruction, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                text.Append(instruction).Append(" \"\"\"").Append(value).Append("\"\"\"\n");
            }
        }
    }

    private sealed class ChannelProgress(ChannelWriter<ModelPullProgress> writer) : IProgress<ModelPullProgress>
    {
        public void Report(ModelPullProgress value) => writer.TryWrite(value);
    }
}
