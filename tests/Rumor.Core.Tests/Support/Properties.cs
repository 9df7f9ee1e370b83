using FsCheck;
using FsCheck.Fluent;

namespace Rumor.Core.Tests.Support;

/// <summary>Runs an FsCheck property (no FsCheck.Xunit here): a failure throws with FsCheck's seed and counterexample.</summary>
internal static class Properties
{
    public static void Check<T>(Gen<T> generator, Action<T> property, int maxTest = 100)
    {
        Property prop = Prop.ForAll(Arb.From(generator), property);
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(maxTest), prop);
    }
}
