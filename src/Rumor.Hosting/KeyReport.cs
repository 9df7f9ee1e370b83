namespace Rumor.Hosting;

/// <summary>One member's answer to a cluster-wide key operation.</summary>
/// <param name="Member">The member that answered.</param>
/// <param name="Ok">True when it applied the operation (or, for a list, reported its ring).</param>
/// <param name="Error">Why it refused, when it did.</param>
/// <param name="RingVersion">Its ring's version (list only).</param>
/// <param name="Keys">Its keys as base64, primary first (list only).</param>
public sealed record KeyMemberAnswer(string Member, bool Ok, string? Error, ulong? RingVersion, IReadOnlyList<string> Keys);

/// <summary>One key seen in a list: how many members hold it and on how many it is primary.</summary>
/// <param name="Key">The key, base64.</param>
/// <param name="Members">Members that hold it.</param>
/// <param name="PrimaryOn">Members on which it is the primary key.</param>
public sealed record KeyHolding(string Key, int Members, int PrimaryOn);

/// <summary>
/// The outcome of <c>rumor keys</c> (Serf's <c>keys</c> report): every member expected to answer,
/// each answer, who did not answer in time, and for a list the keys with their holders.
/// </summary>
/// <param name="Operation">list, install, use or remove.</param>
/// <param name="Expected">The members alive when the operation was asked, sorted.</param>
/// <param name="Answers">Each answer, sorted by member.</param>
/// <param name="Missing">The expected members that did not answer in time.</param>
/// <param name="Keys">For a list: each key with its holders, most held first.</param>
public sealed record KeyOperationReport(string Operation, IReadOnlyList<string> Expected, IReadOnlyList<KeyMemberAnswer> Answers, IReadOnlyList<string> Missing, IReadOnlyList<KeyHolding> Keys)
{
    /// <summary>True when every expected member answered and none refused.</summary>
    public bool Succeeded => Missing.Count == 0 && Answers.All(answer => answer.Ok);
}
