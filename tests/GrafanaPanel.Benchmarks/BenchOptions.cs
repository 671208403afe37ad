namespace GrafanaPanel.Benchmarks;

public sealed record BenchOptions(int Iterations, string? OfflineProject, string PortalDll, string Postgres)
{
    public static BenchOptions Parse(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var postgres = Environment.GetEnvironmentVariable("GRAFANAPANEL_TEST_POSTGRES")
            ?? throw new InvalidOperationException("GRAFANAPANEL_TEST_POSTGRES is not set: run scripts/bench.sh.");
        var dll = Environment.GetEnvironmentVariable("GRAFANAPANEL_PORTAL_DLL")
            ?? throw new InvalidOperationException("GRAFANAPANEL_PORTAL_DLL is not set: run scripts/bench.sh.");
        return new BenchOptions(int.Parse(Value("--iterations") ?? "30"), Value("--offline-project"), dll, postgres);
    }
}
