namespace Rumor.Agent;

/// <summary>
/// Who may use the HTTP API and how much of it (docs/SECURITY.md, docs/CONFIGURATION.md): tokens,
/// TLS, the names the API answers to, and the bounds of requests and streams. The defaults keep a
/// loopback agent open as it always was (no token, plain HTTP) and bound everything else.
/// </summary>
public sealed record ApiSettings
{
    /// <summary>The default of <see cref="RequestsPerSecond"/>.</summary>
    public const int DefaultRequestsPerSecond = 200;

    /// <summary>The default of <see cref="BodyMaxBytes"/>: a value of ValueMaxBytes in base64 and JSON fits with room.</summary>
    public const int DefaultBodyMaxBytes = 1024 * 1024;

    /// <summary>
    /// The default of <see cref="BodyGraceSeconds"/>: as long as Kestrel gives a client to send its
    /// request headers (RequestHeadersTimeout, 30 s). Kestrel's own default, 5 s, refused the 60 KB
    /// writes of a client that was merely descheduled on a loaded two-core machine (LoadTests).
    /// </summary>
    public const int DefaultBodyGraceSeconds = 30;

    /// <summary>The slowest a request body may arrive once <see cref="BodyGraceSeconds"/> have passed: Kestrel's default rate.</summary>
    public const int BodyMinBytesPerSecond = 240;

    /// <summary>The default of <see cref="StreamSubscribersMax"/>.</summary>
    public const int DefaultStreamSubscribersMax = 64;

    /// <summary>The default of <see cref="StreamQueueMax"/>.</summary>
    public const int DefaultStreamQueueMax = 1024;

    /// <summary>The default of <see cref="StreamQueueMaxBytes"/>.</summary>
    public const int DefaultStreamQueueMaxBytes = 1024 * 1024;

    /// <summary>
    /// The read-write management token: with it a request may do anything. Null (the default) with
    /// <see cref="ReadToken"/> also null leaves the API open, which is allowed only on loopback.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>A token that may only read (GET): for dashboards and monitoring. Null: none.</summary>
    public string? ReadToken { get; init; }

    /// <summary>True when a request must present a token.</summary>
    public bool RequiresToken => Token is not null || ReadToken is not null;

    /// <summary>A certificate file (PEM or PKCS#12) to serve HTTPS with; null serves plain HTTP.</summary>
    public string? TlsCertificateFile { get; init; }

    /// <summary>The PEM private key of <see cref="TlsCertificateFile"/> when it is not in the same file.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>The password of a PKCS#12 certificate or an encrypted PEM key, if any.</summary>
    public string? TlsCertificatePassword { get; init; }

    /// <summary>
    /// Host names the API answers to besides loopback names and the bound address (a DNS name the
    /// agent is reached by). Any other <c>Host</c> is refused: DNS rebinding.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>Requests a client address may make per second (token bucket, refilled each second); 0 turns limiting off.</summary>
    public int RequestsPerSecond { get; init; } = DefaultRequestsPerSecond;

    /// <summary>Requests a client address may make at once above the rate (the bucket's size); 0 means twice <see cref="RequestsPerSecond"/>.</summary>
    public int RequestBurst { get; init; }

    /// <summary>The bucket's refill period (one second; tests lengthen it to make the limit exact).</summary>
    internal TimeSpan RatePeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Most bytes a request body may have (413 beyond).</summary>
    public int BodyMaxBytes { get; init; } = DefaultBodyMaxBytes;

    /// <summary>
    /// Seconds a request body may take before it must arrive at <see cref="BodyMinBytesPerSecond"/>
    /// on average (408 and the connection closed otherwise): the guard against a client that holds a
    /// connection open by sending its body a byte at a time. At least 2 (Kestrel refuses less).
    /// </summary>
    public int BodyGraceSeconds { get; init; } = DefaultBodyGraceSeconds;

    /// <summary>Most concurrent <c>/v1/stream</c> subscribers (429 beyond).</summary>
    public int StreamSubscribersMax { get; init; } = DefaultStreamSubscribersMax;

    /// <summary>Most events queued for one stream subscriber; a slow reader's oldest are dropped beyond.</summary>
    public int StreamQueueMax { get; init; } = DefaultStreamQueueMax;

    /// <summary>Most bytes of serialized events queued for one stream subscriber; a slow reader's oldest are dropped beyond.</summary>
    public int StreamQueueMaxBytes { get; init; } = DefaultStreamQueueMaxBytes;

    /// <summary>
    /// Resident memory above what the agent held after its last trim that, once the agent is idle
    /// (it allocated less than <see cref="MemoryTrimmer.IdleAllocationBytes"/> in a check interval),
    /// is given back to the system by one compacting, decommitting collection. After a load of
    /// large values or stream frames nothing allocates, so no collection would run and the memory
    /// would stay taken. 0 turns the trim off.
    /// </summary>
    public int MemoryTrimSlackBytes { get; init; } = DefaultMemoryTrimSlackBytes;

    /// <summary>The default of <see cref="MemoryTrimSlackBytes"/>: 48 MiB.</summary>
    public const int DefaultMemoryTrimSlackBytes = 48 * 1024 * 1024;

    /// <summary>The bucket size in effect.</summary>
    internal int EffectiveBurst => RequestBurst > 0 ? RequestBurst : Math.Max(1, RequestsPerSecond * 2);
}
