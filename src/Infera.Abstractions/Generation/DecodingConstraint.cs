namespace Infera;

/// <summary>Constrains decoding so that the generated text always matches a JSON Schema, a regular expression or a grammar.</summary>
/// <remarks>
/// <para>
/// At every step, tokens that would take the output outside the language are masked before sampling, so the output
/// is always a prefix of a valid sentence; when the sentence is complete, only the end-of-sequence token remains.
/// Generation can still stop early at the token limit, with <see cref="GenerationFinishReason.Length"/>: bound the
/// language (for example <c>maxLength</c>, <c>enum</c>, integer <c>minimum</c>/<c>maximum</c> in a schema) so that
/// it completes within the limit.
/// </para>
/// <para>
/// The constraint is compiled when generation starts; an invalid schema, expression or grammar fails with
/// <see cref="ConstraintCompilationException"/> before any token is produced. Instances are immutable.
/// </para>
/// </remarks>
public sealed class DecodingConstraint
{
    private DecodingConstraint(DecodingConstraintKind kind, string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        Kind = kind;
        Text = text;
    }

    /// <summary>Gets the language the constraint is written in.</summary>
    public DecodingConstraintKind Kind { get; }

    /// <summary>Gets the schema, expression or grammar text.</summary>
    public string Text { get; }

    /// <summary>Creates a constraint from a JSON Schema.</summary>
    /// <param name="schema">The JSON Schema text. By default the generated JSON may contain free whitespace; add <c>"x-guidance": {"whitespace_flexible": false}</c> to the schema for compact output.</param>
    /// <returns>The constraint.</returns>
    public static DecodingConstraint JsonSchema(string schema) => new(DecodingConstraintKind.JsonSchema, schema);

    /// <summary>Creates a constraint from a regular expression that the whole output must match.</summary>
    /// <param name="pattern">The regular expression.</param>
    /// <returns>The constraint.</returns>
    public static DecodingConstraint Regex(string pattern) => new(DecodingConstraintKind.Regex, pattern);

    /// <summary>Creates a constraint from a Lark-style grammar (llguidance dialect).</summary>
    /// <param name="grammar">The grammar text, with a <c>start</c> rule.</param>
    /// <returns>The constraint.</returns>
    public static DecodingConstraint LarkGrammar(string grammar) => new(DecodingConstraintKind.LarkGrammar, grammar);

    /// <inheritdoc />
    public override string ToString() => $"{Kind}: {Text}";
}
