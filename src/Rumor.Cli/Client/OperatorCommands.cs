using System.CommandLine;
using System.Reflection;
using Rumor.Client;

namespace Rumor.Cli.Client;

/// <summary>
/// What an operator reaches for, as in Serf: <c>rumor info</c>, <c>rumor tags [set|delete]</c>,
/// <c>rumor force-leave NAME</c> (through the agent) and <c>rumor version</c> (no agent needed).
/// </summary>
internal static class OperatorCommands
{
    public static readonly ClientCommand Info = new(
        "info",
        "Shows the agent itself: name, address, version, protocol, preset, tags, encryption, event handlers, aggregates, members known, uptime and runtime.",
        () => [],
        InfoAsync);

    public static readonly ClientCommand TagsList = new(
        "tags list",
        "Shows the agent's own tags.",
        () => [],
        TagsListAsync);

    public static readonly ClientCommand TagsSet = new(
        "tags set",
        "Sets tags of the agent at run time (KEY=VALUE, several at once); the change spreads to every member as a metadata update.",
        () => [new Argument<string[]>("KEY=VALUE") { Description = "Tags to set.", Arity = ArgumentArity.OneOrMore }],
        TagsSetAsync);

    public static readonly ClientCommand TagsDelete = new(
        "tags delete",
        "Removes tags of the agent at run time (KEY, several at once); the change spreads to every member.",
        () => [new Argument<string[]>("KEY") { Description = "Tag keys to remove.", Arity = ArgumentArity.OneOrMore }],
        TagsDeleteAsync);

    public static readonly ClientCommand ForceLeave = new(
        "force-leave",
        "Forces a failed (dead or suspect) member into the 'left' state, so it is no longer probed or counted. A live member is refused: it leaves with 'rumor leave' on its own agent.",
        () => [new Argument<string>("NAME") { Description = "The failed member." }],
        ForceLeaveAsync);

    /// <summary><c>tags</c>: no action of its own; without a subcommand it prints its help and fails.</summary>
    public static Command CreateTags(TextWriter output, TextWriter error, ClientEnvironment environment)
    {
        Command tags = new("tags", "The agent's own tags: list, set or delete them at run time.");
        foreach (ClientCommand command in new[] { TagsList, TagsSet, TagsDelete })
        {
            tags.Add(command.Create(output, error, environment));
        }

        return tags;
    }

    /// <summary><c>rumor version</c>: this program's version; it needs no agent.</summary>
    public static Command CreateVersion(TextWriter output)
    {
        Command version = new("version", "Prints the version of rumor and the wire protocol it speaks.");
        version.SetAction(async (_, _) =>
        {
            await output.WriteLineAsync($"rumor {Version} (protocol {Core.Wire.Messages.ProtocolVersions.Current.ProtocolCurrent}, .NET {Environment.Version})").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return version;
    }

    /// <summary>The version of the program (its informational version without build metadata).</summary>
    public static string Version =>
        (typeof(OperatorCommands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    private static async Task<int> InfoAsync(ClientContext context)
    {
        InfoDto info = await context.Agent.GetInfoAsync(context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(info).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        Fields fields = new();
        fields.Add("name", Format.Cell(info.Name));
        fields.Add("address", Format.Cell(info.Address));
        fields.Add("version", Format.Cell(info.Version));
        fields.Add("protocol", Format.Cell(info.ProtocolVersion));
        fields.Add("preset", Format.Cell(info.Preset));
        fields.Add("tags", info.Tags.Count == 0 ? "-" : string.Join(", ", info.Tags.Select(t => t.Key + "=" + t.Value)));
        fields.Add("encrypted", info.Encrypted ? "yes" : "no");
        fields.Add("event handlers", info.EventHandlers.Count == 0 ? "none" : string.Join("; ", info.EventHandlers));
        fields.Add("aggregates", Format.Cell(info.Aggregates));
        fields.Add("members", Format.Cell(info.Members));
        fields.Add("uptime", Format.AgeOfMilliseconds(info.UptimeMs));
        fields.Add("runtime", Format.Cell(info.Runtime));
        await fields.WriteAsync(context.Output).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> TagsListAsync(ClientContext context) =>
        await PrintTagsAsync(context, await context.Agent.GetTagsAsync(context.Stop).ConfigureAwait(false)).ConfigureAwait(false);

    private static async Task<int> TagsSetAsync(ClientContext context)
    {
        Dictionary<string, string> set = new(StringComparer.Ordinal);
        foreach (string text in context.Args.Positionals)
        {
            KeyValuePair<string, string> tag = MetadataTags.Parse(text);
            if (!set.TryAdd(tag.Key, tag.Value))
            {
                throw new UsageException($"tag '{tag.Key}' is given more than once.");
            }
        }

        return await PrintTagsAsync(context, await context.Agent.UpdateTagsAsync(new TagsUpdateRequest(set, null), context.Stop).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private static async Task<int> TagsDeleteAsync(ClientContext context) =>
        await PrintTagsAsync(context, await context.Agent.UpdateTagsAsync(new TagsUpdateRequest(null, [.. context.Args.Positionals]), context.Stop).ConfigureAwait(false)).ConfigureAwait(false);

    private static async Task<int> PrintTagsAsync(ClientContext context, TagsDto tags)
    {
        if (context.Json)
        {
            await context.WriteJsonAsync(tags).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        if (tags.Tags.Count == 0)
        {
            await context.Output.WriteLineAsync("no tags").ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        foreach (KeyValuePair<string, string> tag in tags.Tags)
        {
            await context.Output.WriteLineAsync(tag.Key + "=" + tag.Value).ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> ForceLeaveAsync(ClientContext context)
    {
        string name = context.Args.Positionals[0];
        ForceLeaveDto answer = await context.Agent.ForceLeaveAsync(name, context.Stop).ConfigureAwait(false);
        if (context.Json)
        {
            await context.WriteJsonAsync(answer).ConfigureAwait(false);
            return ExitCodes.Ok;
        }

        await context.Output.WriteLineAsync($"{answer.Name} is now {Format.Name(answer.State)}").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
