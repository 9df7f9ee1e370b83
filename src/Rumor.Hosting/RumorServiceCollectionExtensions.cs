using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Rumor.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a Rumor node in a generic host.</summary>
public static class RumorServiceCollectionExtensions
{
    // Every AddRumor registers TimeProvider.System unless the application registered its own
    // TimeProvider first (a test's FakeTimeProvider): the node, its timers and the agent read only it.

    /// <summary>
    /// Adds a Rumor node bound to <paramref name="configuration"/> (for example
    /// <c>builder.Configuration.GetSection("Rumor")</c>), validated when the host starts.
    /// </summary>
    public static IServiceCollection AddRumor(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services).Bind(configuration);
        return services;
    }

    /// <summary>Adds a Rumor node configured in code, validated when the host starts.</summary>
    public static IServiceCollection AddRumor(this IServiceCollection services, Action<RumorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        AddCore(services).Configure(configure);
        return services;
    }

    private static OptionsBuilder<RumorOptions> AddCore(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RumorNode>();
        services.TryAddSingleton<RumorMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RumorOptions>, RumorOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RumorHostedService>());
        return services.AddOptions<RumorOptions>().ValidateOnStart();
    }
}
