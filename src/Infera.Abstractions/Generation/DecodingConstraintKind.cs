namespace Infera;

/// <summary>The language a <see cref="DecodingConstraint"/> is written in.</summary>
public enum DecodingConstraintKind
{
    /// <summary>A JSON Schema: the output is one JSON value that validates against it.</summary>
    JsonSchema,

    /// <summary>A regular expression that the whole output matches.</summary>
    Regex,

    /// <summary>A Lark-style context-free grammar (llguidance dialect; <c>%json { … }</c> embeds a JSON Schema) whose <c>start</c> rule the output matches.</summary>
    LarkGrammar,
}
