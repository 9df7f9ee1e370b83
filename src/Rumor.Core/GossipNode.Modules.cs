using Rumor.Core.AntiEntropy;
using Rumor.Core.Modules;

namespace Rumor.Core;

/// <summary>The kernel's handle on its modules; their public operations are extension members in <see cref="GossipNodeModules"/>.</summary>
public sealed partial class GossipNode
{
    /// <inheritdoc cref="ReplicatedStateModule.ZoneKey"/>
    public const string ZoneKey = ReplicatedStateModule.ZoneKey;

    /// <summary>The running default modules.</summary>
    internal ModuleSet Modules => _modules;

    /// <summary>The running module of type <typeparamref name="T"/> (a module added to <see cref="ModuleSet"/> needs no forwarder here).</summary>
    internal T Module<T>()
        where T : GossipModule => _modules.All.OfType<T>().Single();
}
