using System.Security.Cryptography;
using System.Text;

namespace Infera;

/// <summary>Checks an <c>Authorization: Bearer KEY</c> header against the configured key in constant time. Shared by the server
/// and the router (compiled into both).</summary>
internal static class BearerKey
{
    public static bool Matches(string header, string key)
    {
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Hashing first makes the comparison take the same time whatever the lengths and contents.
        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim()), given);
        SHA256.HashData(Encoding.UTF8.GetBytes(key), expected);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
