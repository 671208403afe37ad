using System.Security.Cryptography;
using System.Text;

namespace GrafanaPanel.Web.Features.Accounts;

/// <summary>
/// The one-time token that lets the first visitor create the first Admin when none is configured.
/// Only its hash is kept; it is gone after one successful use or a restart.
/// </summary>
public sealed class SetupToken
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _setup = new(1, 1);
    private byte[]? _hash;

    public bool IsActive
    {
        get { lock (_gate) { return _hash is not null; } }
    }

    /// <summary>Serialises first-Admin creation; dispose the result to release.</summary>
    public async Task<IDisposable> HoldAsync()
    {
        await _setup.WaitAsync();
        return new Release(_setup);
    }

    private sealed class Release(SemaphoreSlim semaphore) : IDisposable
    {
        public void Dispose() => semaphore.Release();
    }

    /// <summary>Issues a fresh token and returns it; any earlier token stops working.</summary>
    public string Issue()
    {
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        lock (_gate)
        {
            _hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        }

        return token;
    }

    public bool Matches(string? token)
    {
        lock (_gate)
        {
            return MatchesHeld(token);
        }
    }

    /// <summary>Uses the token up if it matches; true exactly once per issued token.</summary>
    public bool TryConsume(string? token)
    {
        lock (_gate)
        {
            if (!MatchesHeld(token))
            {
                return false;
            }

            _hash = null;
            return true;
        }
    }

    private bool MatchesHeld(string? token) =>
        _hash is not null && !string.IsNullOrEmpty(token)
        && CryptographicOperations.FixedTimeEquals(_hash, SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
