namespace Rumor.Hosting;

/// <summary>Exception messages as people read them.</summary>
internal static class ExceptionText
{
    /// <summary>
    /// The message of <paramref name="e"/> without the " (Parameter 'x')" suffix the runtime appends:
    /// the core's messages already name the option or limit, and the parameter name means nothing to
    /// someone calling the HTTP API or writing a configuration file.
    /// </summary>
    public static string WithoutParameter(ArgumentException e) => e.Message.Split(" (Parameter", 2)[0];
}
