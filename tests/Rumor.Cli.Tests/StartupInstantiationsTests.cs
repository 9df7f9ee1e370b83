using System.Xml.Linq;

namespace Rumor.Cli.Tests;

/// <summary>
/// src/Rumor.Cli/StartupInstantiations.rd.xml names the closed generic types the Native AOT
/// publish compiles ahead of time. A type renamed or moved in a framework or package update would
/// drop out of that list silently (the runtime builds it at first use again); here every entry must
/// still resolve, by reflection, against the assemblies the Cli is built with.
/// </summary>
public sealed class StartupInstantiationsTests
{
    private static readonly XNamespace Directives = "http://schemas.microsoft.com/netfx/2013/01/metadata";

    [Fact]
    public void Every_type_in_the_rd_xml_resolves_to_a_closed_generic_type()
    {
        XDocument document = XDocument.Load(Path.Combine(AppContext.BaseDirectory, "StartupInstantiations.rd.xml"));
        List<(string Assembly, string Type)> entries = document.Root!
            .Elements(Directives + "Application")
            .Elements(Directives + "Assembly")
            .SelectMany(assembly => assembly.Elements(Directives + "Type").Select(type => ((string)assembly.Attribute("Name")!, (string)type.Attribute("Name")!)))
            .ToList();
        Assert.NotEmpty(entries);

        List<string> broken = [];
        foreach ((string assembly, string type) in entries)
        {
            string qualified = type + ", " + assembly;
            try
            {
                Type? resolved = Type.GetType(qualified, throwOnError: false);
                if (resolved is null)
                {
                    broken.Add($"{qualified}: does not resolve");
                }
                else if (!resolved.IsConstructedGenericType || resolved.ContainsGenericParameters)
                {
                    broken.Add($"{qualified}: resolves to {resolved}, not a closed generic type");
                }
            }
            catch (Exception e) when (e is IOException or TypeLoadException or ArgumentException or BadImageFormatException)
            {
                broken.Add($"{qualified}: {e.GetType().Name}: {e.Message}");
            }
        }

        Assert.True(broken.Count == 0, $"{broken.Count} of {entries.Count} entries in StartupInstantiations.rd.xml no longer resolve:\n" + string.Join("\n", broken));
    }
}
