using Google.Protobuf;

namespace Infera.ModelBuilder;

/// <summary>Writes a GenAI model folder atomically: everything goes to a hidden sibling folder that is renamed into place only when complete.</summary>
internal static class ModelFolderWriter
{
    public static ConversionResult Write(WeightSource source, Action<string> writeTokenizer, string outputDirectory, ConversionOptions options, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        GraphInfo? info = null;
        string final = Commit(outputDirectory, options.Overwrite, temp =>
        {
            using (var external = new ExternalDataWriter(Path.Combine(temp, "model.onnx.data")))
            {
                var (model, graphInfo) = DecoderGraphWriter.Build(source, options, external, progress, cancellationToken);
                info = graphInfo;
                external.Flush();
                if (graphInfo.PromptBranches)
                {
                    // Two graphs over one data file: model.onnx decodes and processes prompts at one accuracy level (least
                    // memory; fastest on CPUs with int8 dot products), the other switches prompts to their own level.
                    WriteGraph(Path.Combine(temp, DecoderGraphWriter.FloatPromptsGraphFile), model);
                    model = DecoderGraphWriter.WithoutPromptBranches(model);
                }

                WriteGraph(Path.Combine(temp, "model.onnx"), model);
            }

            if (new FileInfo(Path.Combine(temp, "model.onnx.data")).Length == 0)
            {
                File.Delete(Path.Combine(temp, "model.onnx.data"));
            }

            GenAIConfigWriter.Write(Path.Combine(temp, "genai_config.json"), source.Config, info!, options);
            writeTokenizer(temp);
            cancellationToken.ThrowIfCancellationRequested();
        });

        long bytes = new DirectoryInfo(final).EnumerateFiles().Sum(f => f.Length);
        return new ConversionResult
        {
            OutputDirectory = final,
            Precision = options.Precision,
            GraphStyle = options.GraphStyle,
            ModelType = source.Config.GenAIModelType,
            HiddenSize = source.Config.HiddenSize,
            LayerCount = source.Config.LayerCount,
            HeadCount = source.Config.HeadCount,
            KeyValueHeadCount = source.Config.KeyValueHeadCount,
            HeadSize = source.Config.EffectiveHeadSize,
            GraphHeadSize = info!.HeadSize,
            VocabularySize = source.Config.VocabularySize,
            ContextLength = source.Config.ContextLength,
            TotalBytes = bytes,
            Elapsed = started.Elapsed,
        };
    }

    private static void WriteGraph(string path, Onnx.ModelProto model)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        model.WriteTo(stream);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Runs <paramref name="write"/> on a fresh temporary folder beside <paramref name="outputDirectory"/> and renames it into place.</summary>
    public static string Commit(string outputDirectory, bool overwrite, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        string final = Path.GetFullPath(outputDirectory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        string parent = Path.GetDirectoryName(final) ?? throw new ModelConversionException($"Cannot write the output folder {final}: it has no parent folder.");
        string name = Path.GetFileName(final);
        if (File.Exists(final))
        {
            throw new ModelConversionException($"Cannot write the output folder {final}: a file with that name exists.");
        }

        bool exists = Directory.Exists(final);
        if (exists && !overwrite && Directory.EnumerateFileSystemEntries(final).Any())
        {
            throw new ModelConversionException($"The output folder {final} exists and is not empty; choose another folder or allow overwriting.");
        }

        string temp = Path.Combine(parent, $".{name}.tmp-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(parent);
            Directory.CreateDirectory(temp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelConversionException($"Cannot write the output folder {final}: {e.Message}", e);
        }

        try
        {
            write(temp);
            if (Directory.Exists(final))
            {
                string old = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
                Directory.Move(final, old);
                Directory.Move(temp, final);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temp, final);
            }

            return final;
        }
        catch (Exception e)
        {
            TryDelete(temp);
            if (e is IOException or UnauthorizedAccessException)
            {
                throw new ModelConversionException($"Cannot write the output folder {final}: {e.Message}", e);
            }

            throw;
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: the folder is hidden and uniquely named, and the original error matters more.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
