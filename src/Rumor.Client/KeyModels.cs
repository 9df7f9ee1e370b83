namespace Rumor.Client;

/// <summary>The body of <c>POST /v1/keys/install</c>, <c>/use</c> and <c>/remove</c>.</summary>
/// <param name="Key">The key, base64 of 16, 24 or 32 bytes (<c>rumor keygen</c> prints one).</param>
/// <param name="TimeoutMs">How long to wait for the members' answers (default 5000).</param>
public sealed record KeyRequest(string Key, long? TimeoutMs = null);

/// <summary>One member's answer to a key operation.</summary>
/// <param name="Member">The member that answered.</param>
/// <param name="Ok">True when it applied the operation (or listed its ring).</param>
/// <param name="Error">Why it refused.</param>
/// <param name="RingVersion">Its ring's version (list only).</param>
/// <param name="Keys">Its keys, base64, primary first (list only).</param>
public sealed record KeyAnswerDto(string Member, bool Ok, string? Error, ulong? RingVersion, IReadOnlyList<string>? Keys);

/// <summary>A key seen by a list.</summary>
/// <param name="Key">The key, base64.</param>
/// <param name="Members">Members that hold it.</param>
/// <param name="PrimaryOn">Members on which it is primary.</param>
public sealed record KeyHoldingDto(string Key, int Members, int PrimaryOn);

/// <summary>The answer of the <c>/v1/keys</c> endpoints: each member's answer and who did not answer (as <c>serf keys</c> reports).</summary>
/// <param name="Operation">list, install, use or remove.</param>
/// <param name="Expected">The members alive when it was asked.</param>
/// <param name="Answers">Each answer, by member.</param>
/// <param name="Missing">The members that did not answer in time.</param>
/// <param name="Keys">For a list: each key with its holders.</param>
/// <param name="Succeeded">True when every expected member answered and none refused.</param>
public sealed record KeysResponse(string Operation, IReadOnlyList<string> Expected, IReadOnlyList<KeyAnswerDto> Answers, IReadOnlyList<string> Missing, IReadOnlyList<KeyHoldingDto> Keys, bool Succeeded);
