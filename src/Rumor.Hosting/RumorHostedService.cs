using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rumor.Transport;

namespace Rumor.Hosting;

/// <summary>
/// Runs the node for the host's lifetime. StartAsync binds (so a port in use or a bad option fails
/// the host's start, with the reason) unless the node's owner started it already (the agent does,
/// to send its join before building its HTTP pipeline); ExecuteAsync joins through the seeds and ends there: the
/// service keeps no timer of its own (samples for metrics and status are taken when read, see
/// <see cref="RumorMetrics"/>); StopAsync leaves gracefully (bounded by LeaveTimeout) and closes the sockets. When JoinRequired is set and no seed answers, the host is
/// stopped.
/// </summary>
public sealed class RumorHostedService : BackgroundService
{
    private readonly RumorNode _node;
    private readonly IOptionsMonitor<RumorOptions> _options;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ILogger _logger;

    /// <summary>Created by DI; <paramref name="metrics"/> is taken so the meter exists before the node runs.</summary>
    public RumorHostedService(RumorNode node, RumorMetrics metrics, IOptionsMonitor<RumorOptions> options, IHostApplicationLifetime? lifetime = null, ILogger<RumorHostedService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _node = node;
        _options = options;
        _lifetime = lifetime;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The agent may have started the node already, before building its HTTP pipeline (RumorAgent).
        if (!_node.Started.IsCompletedSuccessfully)
        {
            await _node.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        RumorOptions options = _options.CurrentValue;
        try
        {
            // As the agent does: a first attempt that no seed answered while the host was still
            // starting (a cold process can hold up its first exchange past a short StreamTimeout)
            // is sent once more when the host has started, before the RetryJoinMax retries.
            JoinResult result = await _node.RunFirstJoinAsync(stoppingToken, _lifetime is null ? null : RumorNode.HostStarted(_lifetime)).ConfigureAwait(false);
            if (!result.Joined)
            {
                RumorLog.JoinAbandoned(_logger, result.Failed.Count);
                if (options.JoinRequired && _lifetime is not null)
                {
                    // Stop once the host has started: the agent sends its join before its HTTP
                    // server starts, and a stop requested before that would cancel the host's
                    // start (an exception) instead of stopping it.
                    TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
                    using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
                    {
                        await started.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
                    }

                    _lifetime.StopApplication();
                    return;
                }
            }

            // Nothing else to do until the host stops: samples are taken when they are read
            // (RumorMetrics, /v1/status, a scrape), never on a timer, so an idle node's loop only
            // wakes for the protocol's own timers and packets.
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
        catch (ObjectDisposedException)
        {
            // The node was stopped under us (an abrupt stop) during the join.
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        RumorOptions options = _options.CurrentValue;
        await _node.StopAsync(options.LeaveOnStop, options.LeaveTimeout).ConfigureAwait(false);
    }
}
