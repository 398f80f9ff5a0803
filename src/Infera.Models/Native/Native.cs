using System.Runtime.InteropServices;

namespace Infera.Models;

/// <summary>Hard links, so that a ready folder used as is shares its bytes with the Hub cache instead of copying them.</summary>
internal static partial class Native
{
    public static bool TryHardLink(string existing, string link)
    {
        try
        {
            if (OperatingSystem.IsWindows())
            {
                return CreateHardLink(link, existing, IntPtr.Zero);
            }

            return (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && Link(existing, link) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // int link(const char *oldpath, const char *newpath);
    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string oldPath, string newPath);

    // BOOL CreateHardLinkW(LPCWSTR lpFileName, LPCWSTR lpExistingFileName, LPSECURITY_ATTRIBUTES lpSecurityAttributes);
    [LibraryImport("kernel32.dll", EntryPoint = "CreateHardLinkW", StringMarshalling = StringMarshalling.Utf16, SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CreateHardLink(string fileName, string existingFileName, IntPtr securityAttributes);
}
