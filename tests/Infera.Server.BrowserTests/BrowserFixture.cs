using Infera.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Infera.Server.BrowserTests;

/// <summary>One Chromium and one real Kestrel server for the suite: stories260K-gqa and stories260K-onnx, and two scripted models, behind an API key.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ApiKey = "browser-key-93d2";
    public const string Gqa = TestModels.Stories260KGqa;
    public const string Onnx = TestModels.Stories260KOnnx;
    public const string Markup = "markup";
    public const string Endless = "endless";

    /// <summary>The scripted reply of <see cref="Markup"/>: markup that would run script or load an image if it were ever parsed as HTML.</summary>
    public static readonly string[] MarkupPieces = ["<img src=x onerror=\"window.__xss=1\">", " and ", "<script>window.__xss=2</script>", "<b>bold</b>"];

    private WebApplication? _app;
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public OnnxModelRunner GqaRunner { get; private set; } = null!;

    public OnnxModelRunner OnnxRunner { get; private set; } = null!;

    internal ScriptedModelRunner EndlessRunner { get; private set; } = null!;

    /// <summary>The Chromium to drive: <c>INFERA_CHROMIUM</c>, or Debian's <c>/usr/bin/chromium</c>.</summary>
    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("INFERA_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            // A missing browser fails, as a missing model does: .ci/run installs it.
            throw new InvalidOperationException($"Chromium was not found at '{ChromiumPath}'. Install it (apt-get install chromium) or set INFERA_CHROMIUM to its executable.");
        }

        GqaRunner = await OnnxModelRunner.LoadAsync(TestModels.Get(Gqa));
        OnnxRunner = await OnnxModelRunner.LoadAsync(TestModels.Get(Onnx));
        EndlessRunner = new ScriptedModelRunner(GqaRunner, Endless, ["tick "]) { Endless = true, Delay = TimeSpan.FromMilliseconds(20) };
        var markup = new ScriptedModelRunner(GqaRunner, Markup, MarkupPieces);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddInferaServer(options =>
        {
            options.ApiKey = ApiKey;
            options.AddModel(GqaRunner).AddModel(OnnxRunner).AddModel(markup).AddModel(EndlessRunner);
        });
        _app = builder.Build();
        _app.MapInferaEndpoints();
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/");

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (GqaRunner is not null)
        {
            await GqaRunner.DisposeAsync();
        }

        if (OnnxRunner is not null)
        {
            await OnnxRunner.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
