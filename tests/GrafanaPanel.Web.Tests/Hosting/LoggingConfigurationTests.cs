using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Serilog;

namespace GrafanaPanel.Web.Tests.Hosting;

/// <summary>Logging is configured from settings only: plain console by default, compact JSON when configured (containers).</summary>
[Collection(nameof(ConsoleOutput))]
public sealed class LoggingConfigurationTests
{
    [Fact]
    public void The_shipped_settings_write_readable_lines()
    {
        var output = Capture(new Dictionary<string, string?>());

        Assert.Contains("Backup of grafana_data done", output);
        Assert.DoesNotContain("\"@mt\"", output);
    }

    [Fact]
    public void The_container_setting_switches_the_console_to_compact_json()
    {
        var output = Capture(new Dictionary<string, string?>
        {
            ["Serilog:WriteTo:0:Args:formatter"] = "Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact",
        });

        using var json = JsonDocument.Parse(output.Trim().Split('\n')[0]);
        Assert.Equal("Backup of {VolumeName} done", json.RootElement.GetProperty("@mt").GetString());
        Assert.Equal("grafana_data", json.RootElement.GetProperty("VolumeName").GetString());
    }

    private static string Capture(Dictionary<string, string?> overrides)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"))
            .AddInMemoryCollection(overrides)
            .Build();
        var original = Console.Out;
        var writer = new StringWriter();
        Console.SetOut(writer);
        try
        {
            using (var logger = new LoggerConfiguration().ReadFrom.Configuration(configuration).CreateLogger())
            {
                logger.Information("Backup of {VolumeName} done", "grafana_data");
            }

            return writer.ToString();
        }
        finally
        {
            Console.SetOut(original);
        }
    }
}

[CollectionDefinition(nameof(ConsoleOutput), DisableParallelization = true)]
public sealed class ConsoleOutput;
