namespace Rumor.Cli.Tests.Support;

/// <summary>The <c>rumor</c> command run in-process through <c>RumorCommand.RunAsync</c>, its output and error captured.</summary>
internal static class InProcessCli
{
    public static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using StringWriter output = new();
        using StringWriter error = new();
        int code = await RumorCommand.RunAsync(args, output, error, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
