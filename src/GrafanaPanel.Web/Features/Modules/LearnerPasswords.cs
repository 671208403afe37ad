using System.Security.Cryptography;

namespace GrafanaPanel.Web.Features.Modules;

/// <summary>
/// Passwords for learner accounts, from the operating system's cryptographic generator. They meet Grafana's
/// strong password policy (the stack turns it on: 12+ characters with upper and lower case, a digit and a symbol)
/// and avoid characters that are easy to misread when copied from a screen (I, l, 1, O, 0).
/// </summary>
public static class LearnerPasswords
{
    public const int Length = 16;

    private const string Upper = "ABCDEFGHJKLMNPQRSTUVWXYZ";
    private const string Lower = "abcdefghijkmnopqrstuvwxyz";
    private const string Digits = "23456789";
    private const string Symbols = "-_.!#%+=";
    private const string All = Upper + Lower + Digits + Symbols;

    public static string Generate()
    {
        var password = new char[Length];
        // One of each class first, so the policy always holds, then the rest from all of them; then shuffled.
        password[0] = Pick(Upper);
        password[1] = Pick(Lower);
        password[2] = Pick(Digits);
        password[3] = Pick(Symbols);
        for (var i = 4; i < Length; i++)
        {
            password[i] = Pick(All);
        }

        for (var i = Length - 1; i > 0; i--)
        {
            var j = RandomNumberGenerator.GetInt32(i + 1);
            (password[i], password[j]) = (password[j], password[i]);
        }

        return new string(password);
    }

    private static char Pick(string alphabet) => alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
}
