using Microsoft.Extensions.Options;

namespace Rumor.Hosting;

/// <summary>
/// Checks <see cref="RumorOptions"/> when the host starts (registered with ValidateOnStart): every
/// problem names its option (<c>Rumor:ProbeTimeout ...</c>), using the core's own
/// <see cref="Core.GossipOptions.Validate"/> messages for the protocol options.
/// </summary>
public sealed class RumorOptionsValidator : IValidateOptions<RumorOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RumorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return ResolvedRumorOptions.TryResolve(options, out IReadOnlyList<string> problems) is null
            ? ValidateOptionsResult.Fail(problems.Select(problem => "Rumor:" + problem))
            : ValidateOptionsResult.Success;
    }
}
