using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Infera.ModelBuilder;

/// <summary>Builds an ONNX graph node by node; initializers above a size threshold go to the external data file.</summary>
internal sealed class OnnxGraphBuilder
{
    private const int InlineLimitBytes = 1024;
    private readonly ExternalDataWriter? _external;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(string name, ExternalDataWriter? external)
    {
        Graph = new GraphProto { Name = name };
        _external = external;
    }

    public GraphProto Graph { get; }

    public void AddInput(string name, TensorProto.Types.DataType type, params object[] dims) => Graph.Input.Add(ValueInfo(name, type, dims));

    public void AddOutput(string name, TensorProto.Types.DataType type, params object[] dims) => Graph.Output.Add(ValueInfo(name, type, dims));

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                _ => throw new ArgumentException("Dimensions are strings or integers.", nameof(dims)),
            });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    /// <summary>Adds a node and returns its first output's name (<c>{name}/output_0</c> unless outputs are given).</summary>
    public string Node(string opType, string name, IReadOnlyList<string> inputs, IReadOnlyList<string>? outputs = null, string domain = "", params AttributeProto[] attributes)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"Duplicate node name {name}.");
        }

        var node = new NodeProto { OpType = opType, Name = name, Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs ?? [name + "/output_0"]);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return node.Output[0];
    }

    /// <summary>Adds a node built by the caller (for instance, one that is also the model of a subgraph's node).</summary>
    public void Add(NodeProto node)
    {
        if (!_names.Add(node.Name))
        {
            throw new InvalidOperationException($"Duplicate node name {node.Name}.");
        }

        Graph.Node.Add(node);
    }

    public static AttributeProto Subgraph(string name, GraphProto value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = value };

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Tensor(string name, TensorProto value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    /// <summary>Adds an initializer from raw little-endian bytes.</summary>
    public string Initializer(string name, TensorProto.Types.DataType type, long[] dims, ReadOnlySpan<byte> bytes)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.AddRange(dims);
        if (_external is null || bytes.Length <= InlineLimitBytes)
        {
            tensor.RawData = ByteString.CopyFrom(bytes);
        }
        else
        {
            long offset = _external.Append(bytes);
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = _external.FileName });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }

        Graph.Initializer.Add(tensor);
        return name;
    }

    public string Initializer<T>(string name, TensorProto.Types.DataType type, long[] dims, ReadOnlySpan<T> values)
        where T : unmanaged => Initializer(name, type, dims, MemoryMarshal.AsBytes(values));

    /// <summary>Returns the name of a shared int64 constant initializer holding <paramref name="values"/> (a scalar when <paramref name="scalar"/>).</summary>
    public string Int64Constant(bool scalar, params long[] values)
    {
        string key = "/model/constants/INT64/" + (scalar ? string.Empty : "[") + string.Join(",", values) + (scalar ? string.Empty : "]");
        if (!_constants.TryGetValue(key, out string? name))
        {
            name = key;
            Initializer<long>(name, TensorProto.Types.DataType.Int64, scalar ? [] : [values.Length], values);
            _constants[key] = name;
        }

        return name;
    }
}
