namespace Infera.Tests.Models;

public sealed class MachineDecoderFileTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("infera-tests-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Fact]
    public void MachineDecoderFile_FolderWithFloatPromptsGraph_ChosenOnlyWithoutInt8DotProduct()
    {
        var folder = CopyModel(TestModels.Stories260KOnnx);
        File.Copy(Path.Combine(folder, "model.onnx"), Path.Combine(folder, ModelFolder.FloatPromptsGraphFile));

        var opened = ModelFolder.Open(folder);

        Assert.Equal(ModelFolder.FloatPromptsGraphFile, opened.MachineDecoderFile(int8DotProduct: false));
        Assert.Null(opened.MachineDecoderFile(int8DotProduct: true));
    }

    [Fact]
    public void MachineDecoderFile_FolderWithOneGraph_KeepsIt()
    {
        var opened = ModelFolder.Open(CopyModel(TestModels.Stories260KOnnx));

        Assert.Null(opened.MachineDecoderFile(int8DotProduct: false));
        Assert.Null(opened.MachineDecoderFile(int8DotProduct: true));
    }

    private string CopyModel(string name)
    {
        var source = TestModels.Get(name);
        var target = Path.Combine(_scratch, name);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }
}
