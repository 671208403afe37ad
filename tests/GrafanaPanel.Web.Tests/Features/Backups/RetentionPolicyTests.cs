using GrafanaPanel.Web.Features.Backups;
using GrafanaPanel.Web.Features.Schedules;

namespace GrafanaPanel.Web.Tests.Features.Backups;

public sealed class RetentionPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static RetentionCandidate Set(int daysAgo, bool pinned = false, bool baseline = false, bool verified = true) =>
        new(Guid.NewGuid(), Now.AddDays(-daysAgo), pinned, baseline, verified);

    [Fact]
    public void Keep_last_n_deletes_the_older_ones()
    {
        var sets = Enumerable.Range(0, 6).Select(d => Set(d)).ToList();

        var deleted = new RetentionPolicy(3, null).SelectForDeletion(sets, Now);

        Assert.Equal(sets.Skip(3).Select(s => s.Id), deleted);
    }

    [Fact]
    public void Max_age_deletes_what_is_older()
    {
        var sets = new[] { Set(1), Set(5), Set(10) };

        var deleted = new RetentionPolicy(null, TimeSpan.FromDays(7)).SelectForDeletion(sets, Now);

        Assert.Equal([sets[2].Id], deleted);
    }

    [Fact]
    public void With_both_rules_a_set_goes_only_when_outside_both()
    {
        var sets = new[] { Set(1), Set(2), Set(20), Set(30) };

        var deleted = new RetentionPolicy(3, TimeSpan.FromDays(7)).SelectForDeletion(sets, Now);

        Assert.Equal([sets[3].Id], deleted);
    }

    [Fact]
    public void Baselines_pinned_sets_and_the_newest_verified_set_are_never_deleted()
    {
        var newestVerified = Set(3, verified: true);
        var sets = new[] { Set(1, verified: false), Set(2, verified: false), newestVerified, Set(40, baseline: true), Set(50, pinned: true), Set(60) };

        var deleted = new RetentionPolicy(1, null).SelectForDeletion(sets, Now);

        Assert.DoesNotContain(newestVerified.Id, deleted);
        Assert.DoesNotContain(sets[3].Id, deleted);
        Assert.DoesNotContain(sets[4].Id, deleted);
        Assert.Equal([sets[1].Id, sets[5].Id], deleted);
    }

    [Fact]
    public void No_rule_deletes_nothing()
    {
        Assert.Empty(new RetentionPolicy(null, null).SelectForDeletion([Set(400)], Now));
    }

    [Theory]
    [InlineData(0, null, "would delete every backup")]
    [InlineData(-1, null, "would delete every backup")]
    [InlineData(null, 0.0, "as soon as it is made")]
    public void A_setting_that_would_delete_everything_is_refused(int? keepLast, double? maxAgeHours, string expected)
    {
        var policy = new RetentionPolicy(keepLast, maxAgeHours is null ? null : TimeSpan.FromHours(maxAgeHours.Value));

        var error = Assert.Throws<ScheduleValidationException>(policy.Validate);

        Assert.Contains(expected, error.Message);
    }
}
