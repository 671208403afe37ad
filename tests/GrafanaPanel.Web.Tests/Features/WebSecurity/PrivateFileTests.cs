using GrafanaPanel.Web.Features.WebSecurity;

namespace GrafanaPanel.Web.Tests.Features.WebSecurity;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PrivateFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("private-file-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void A_new_file_is_whole_readable_by_its_owner_only_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(_dir.FullName, "keys", "cert.pfx");

        Assert.True(PrivateFile.Write(path, [1, 2, 3], overwrite: false));

        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(["cert.pfx"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void Without_overwrite_a_file_written_first_is_kept_and_with_it_replaced()
    {
        var path = Path.Combine(_dir.FullName, "cert.pfx");
        PrivateFile.Write(path, [1], overwrite: false);

        Assert.False(PrivateFile.Write(path, [2], overwrite: false));
        Assert.Equal([1], File.ReadAllBytes(path));

        Assert.True(PrivateFile.Write(path, [3], overwrite: true));
        Assert.Equal([3], File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir.FullName));
    }
}
