using GrafanaPanel.Web.Docker;

namespace GrafanaPanel.Web.Tests.Docker;

public sealed class DiskUsageReaderTests
{
    [Fact]
    public void ParseVolumes_reads_the_top_level_shape_of_api_1_41()
    {
        const string json = """
            {"LayersSize": 10, "Images": [], "Containers": [],
             "Volumes": [
               {"Name": "lab_grafana", "Driver": "local", "Labels": {"com.docker.compose.project": "lab"},
                "UsageData": {"Size": 3145728, "RefCount": 1}},
               {"Name": "plugin_vol", "Driver": "other", "Labels": null, "UsageData": {"Size": -1, "RefCount": -1}}
             ],
             "BuildCache": []}
            """;

        var volumes = DiskUsageReader.ParseVolumes(json);

        Assert.Equal(2, volumes.Count);
        Assert.Equal(("lab_grafana", 3145728L, 1L), (volumes[0].Name, volumes[0].SizeBytes!.Value, volumes[0].RefCount!.Value));
        Assert.Equal("lab", volumes[0].Labels["com.docker.compose.project"]);
        Assert.Equal("plugin_vol", volumes[1].Name);
        Assert.Null(volumes[1].SizeBytes);
        Assert.Null(volumes[1].RefCount);
        Assert.Empty(volumes[1].Labels);
    }

    [Fact]
    public void ParseVolumes_reads_the_nested_shape_of_newer_daemons()
    {
        const string json = """
            {"ImagesDiskUsage": {"TotalCount": 0},
             "VolumesDiskUsage": {"ActiveCount": 1, "TotalCount": 2, "TotalSize": 42, "Reclaimable": 0,
               "Items": [
                 {"Name": "lab_loki", "Labels": {"com.docker.compose.volume": "loki"}, "UsageData": {"Size": 42, "RefCount": 0}},
                 {"Name": "lab_tempo", "Labels": {}}
               ]}}
            """;

        var volumes = DiskUsageReader.ParseVolumes(json);

        Assert.Equal(["lab_loki", "lab_tempo"], volumes.Select(v => v.Name));
        Assert.Equal((42L, 0L), (volumes[0].SizeBytes!.Value, volumes[0].RefCount!.Value));
        Assert.Equal("loki", volumes[0].Labels["com.docker.compose.volume"]);
        Assert.Null(volumes[1].SizeBytes);
    }

    [Fact]
    public void ParseVolumes_returns_nothing_when_the_daemon_lists_no_volumes()
    {
        Assert.Empty(DiskUsageReader.ParseVolumes("""{"Images": [], "Volumes": null}"""));
    }
}
