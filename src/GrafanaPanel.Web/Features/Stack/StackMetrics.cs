using Prometheus;

namespace GrafanaPanel.Web.Features.Stack;

/// <summary>
/// Exports the snapshot's verdict per service on /metrics (<c>grafanapanel_stack_service_healthy{service}</c>, 1 or 0),
/// which the stack's ContainerUnhealthy alert and stack-health dashboard read.
/// </summary>
public sealed class StackMetrics : IDisposable
{
    private readonly StackSnapshot _snapshot;
    private readonly Gauge _healthy;
    private readonly Gauge _services;
    private readonly Lock _gate = new();
    private HashSet<string> _known = [];

    public StackMetrics(StackSnapshot snapshot, IMetricFactory? factory = null)
    {
        factory ??= Metrics.WithCustomRegistry(Metrics.DefaultRegistry);
        _snapshot = snapshot;
        _healthy = factory.CreateGauge("grafanapanel_stack_service_healthy",
            "1 when the portal sees the service healthy (or running without a health check), else 0.", ["service"]);
        _services = factory.CreateGauge("grafanapanel_stack_services", "Number of services of the managed compose project.");
        _snapshot.Changed += Update;
        Update(_snapshot.Current);
    }

    private void Update(StackView view)
    {
        lock (_gate)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var service in view.Services)
            {
                names.Add(service.Name);
                _healthy.WithLabels(service.Name).Set(service.Health is ServiceHealth.Healthy or ServiceHealth.Running ? 1 : 0);
            }

            // A service that left the project stops being reported instead of staying frozen at its last value.
            foreach (var gone in _known.Except(names))
            {
                _healthy.RemoveLabelled(gone);
            }

            _known = names;
            _services.Set(view.Services.Length);
        }
    }

    public void Dispose() => _snapshot.Changed -= Update;
}
