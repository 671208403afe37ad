namespace GrafanaPanel.Web.Features.WebSecurity;

/// <summary>HTTPS, proxy and cross-origin log events, source-generated.</summary>
internal static partial class WebSecurityLog
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "Refused a cross-origin or unmarked {Method} {Path} (origin {Origin})")]
    public static partial void CrossOriginRefused(ILogger logger, string method, string path, string origin);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Information,
        Message = "HTTPS with the self-signed certificate {Path} ({Subject}, valid until {NotAfter:yyyy-MM-dd}); SHA-256 fingerprint {Fingerprint}: compare it with the one the browser shows")]
    public static partial void SelfSignedInUse(ILogger logger, string path, string subject, DateTime notAfter, string fingerprint);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Warning, Message = "Generated a new self-signed HTTPS certificate in {Path}: {Reason}")]
    public static partial void SelfSignedGenerated(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Information, Message = "HTTPS with the certificate from Kestrel's settings ({Path})")]
    public static partial void ConfiguredCertificateInUse(ILogger logger, string path);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Information, Message = "X-Forwarded-For and X-Forwarded-Proto are honoured from {Proxies} only")]
    public static partial void ForwardedHeadersTrusted(ILogger logger, string proxies);
}
