namespace GrafanaPanel.StackTests.Infrastructure;

/// <summary>Polls a condition until it holds or a deadline passes; the failure says what was last seen.</summary>
public static class Eventually
{
    public static async Task HoldsAsync(string what, Func<Task<(bool Holds, string Seen)>> probe, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        var seen = "nothing yet";
        while (DateTime.UtcNow < until)
        {
            try
            {
                (var holds, seen) = await probe();
                if (holds)
                {
                    return;
                }
            }
            catch (HttpRequestException e)
            {
                seen = e.Message;
            }
            catch (TaskCanceledException e)
            {
                seen = e.Message;
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        Assert.Fail($"{what} did not happen within {deadline}. Last seen: {seen}");
    }
}
