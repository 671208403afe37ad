using Docker.DotNet.Models;

namespace GrafanaPanel.Web.Docker;

/// <summary>CPU and memory figures computed the way the docker CLI computes them for <c>docker stats</c>.</summary>
internal static class StatsCalculation
{
    /// <summary>True when the sample carries the daemon's previous reading, so one sample is enough for a CPU delta.</summary>
    public static bool HasPreviousReading(ContainerStatsResponse sample) =>
        sample.PreCPUStats?.SystemUsage > 0 && sample.PreCPUStats.CPUUsage is not null;

    /// <summary>Share of the host's CPUs used between two readings, where 100 % is one whole CPU.</summary>
    public static double CpuPercent(CPUStats? previous, CPUStats? current)
    {
        if (previous?.CPUUsage is null || current?.CPUUsage is null)
        {
            return 0;
        }

        var cpuDelta = (double)current.CPUUsage.TotalUsage - previous.CPUUsage.TotalUsage;
        var systemDelta = (double)(current.SystemUsage ?? 0) - (previous.SystemUsage ?? 0);
        var onlineCpus = current.OnlineCPUs > 0 ? (int)current.OnlineCPUs : current.CPUUsage.PercpuUsage?.Count ?? 0;
        return cpuDelta > 0 && systemDelta > 0 ? cpuDelta / systemDelta * onlineCpus * 100.0 : 0;
    }

    /// <summary>
    /// Usage minus the inactive page cache, which the kernel can drop at any time: cgroup v1 reports it as
    /// <c>total_inactive_file</c>, cgroup v2 as <c>inactive_file</c>.
    /// </summary>
    public static long MemoryWithoutCache(MemoryStats? memory)
    {
        if (memory is null)
        {
            return 0;
        }

        var usage = memory.Usage ?? 0;
        foreach (var key in (string[])["total_inactive_file", "inactive_file"])
        {
            if (memory.Stats?.TryGetValue(key, out var inactive) == true && inactive < usage)
            {
                return (long)(usage - inactive);
            }
        }

        return (long)usage;
    }

    public static long? MemoryLimit(MemoryStats? memory) => memory?.Limit > 0 ? (long)memory.Limit : null;
}
