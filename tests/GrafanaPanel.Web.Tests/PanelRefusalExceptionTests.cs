using GrafanaPanel.Web.Docker;
using GrafanaPanel.Web.Features.Accounts;
using GrafanaPanel.Web.Features.Resets;
using GrafanaPanel.Web.Features.Schedules;
using GrafanaPanel.Web.Features.Stack;
using Microsoft.AspNetCore.Http;

namespace GrafanaPanel.Web.Tests;

public sealed class PanelRefusalExceptionTests
{
    [Fact]
    public void Every_refusal_of_the_portal_is_one_type_that_pages_and_endpoints_catch()
    {
        var refusals = typeof(PanelRefusalException).Assembly.GetTypes()
            .Where(t => typeof(Exception).IsAssignableFrom(t) && (t.Name.EndsWith("RefusedException", StringComparison.Ordinal)
                || t.Name.EndsWith("RejectedException", StringComparison.Ordinal) || t.Name.EndsWith("DeniedException", StringComparison.Ordinal)))
            // Archive checks have their own hierarchy: a bad archive is caught where archives are read, never by a page.
            .Where(t => t.Namespace != "GrafanaPanel.Web.Features.Backups.Archive")
            .ToList();

        Assert.NotEmpty(refusals);
        Assert.All(refusals, t => Assert.True(t.IsSubclassOf(typeof(PanelRefusalException)), $"{t.Name} is not a PanelRefusalException"));
    }

    [Fact]
    public void Each_refusal_names_the_status_an_endpoint_answers_with()
    {
        Assert.Equal(StatusCodes.Status403Forbidden, new PanelAccessDeniedException("no").StatusCode);
        Assert.Equal(StatusCodes.Status400BadRequest, new ScheduleValidationException("bad cron").StatusCode);
        Assert.Equal(StatusCodes.Status400BadRequest, new ResetRefusedException("unconfirmed").StatusCode);
        Assert.Equal(StatusCodes.Status409Conflict, new ResetRefusedException("busy") { Busy = true }.StatusCode);
        Assert.Equal(StatusCodes.Status409Conflict, new StackBusyException("a reset").StatusCode);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, new DockerUnavailableException("unix:///x.sock", "refused").StatusCode);
        Assert.Equal(StatusCodes.Status404NotFound, new DockerNotFoundException("Container x").StatusCode);
        Assert.Equal(StatusCodes.Status507InsufficientStorage,
            new GrafanaPanel.Web.Features.Backups.BackupImportRefusedException("full") { StatusCode = StatusCodes.Status507InsufficientStorage }.StatusCode);
    }
}
