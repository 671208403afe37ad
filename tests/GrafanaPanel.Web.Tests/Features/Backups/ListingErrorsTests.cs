using GrafanaPanel.Web.Features.Backups.Volumes;
using GrafanaPanel.Web.Features.Backups;

namespace GrafanaPanel.Web.Tests.Features.Backups;

public sealed class ListingErrorsTests
{
    private const string Skipped = "/v/lab_data/.grafana-panel-replaced-0123";

    [Fact]
    public void Find_losing_the_folder_being_deleted_beside_it_is_no_error_in_busybox_or_gnu_wording()
    {
        string[] stderr =
        [
            $"find: {Skipped}: No such file or directory",
            $"find: '{Skipped}': No such file or directory",
            "",
        ];

        Assert.Empty(VolumeContent.ListingErrors(stderr, Skipped));
    }

    [Fact]
    public void Any_other_complaint_is_an_error_and_so_is_every_complaint_when_nothing_is_left_out()
    {
        string[] stderr = ["find: /v/lab_data/a/b: Permission denied", $"find: {Skipped}: No such file or directory"];

        Assert.Equal(["find: /v/lab_data/a/b: Permission denied"], VolumeContent.ListingErrors(stderr, Skipped));
        Assert.Equal(2, VolumeContent.ListingErrors(stderr, null).Count());
    }
}
