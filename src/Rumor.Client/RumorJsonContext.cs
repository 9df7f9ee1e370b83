using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rumor.Client;

/// <summary>
/// Source-generated JSON metadata for every model of the API, with the API's conventions: camelCase
/// names, enums as camelCase strings (<see cref="CamelCaseEnumConverter{TEnum}"/>), nulls omitted.
/// The agent writes and reads its bodies with it and <see cref="RumorClient"/> reads and writes them
/// with it, so the wire contract is this one set of types; no reflection is needed (Native AOT).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HealthDto))]
[JsonSerializable(typeof(StatusDto))]
[JsonSerializable(typeof(MemberDto[]))]
[JsonSerializable(typeof(MemberDetailDto))]
[JsonSerializable(typeof(JoinRequest))]
[JsonSerializable(typeof(JoinResponse))]
[JsonSerializable(typeof(JoinFailedDto[]))]
[JsonSerializable(typeof(LeaveRequest))]
[JsonSerializable(typeof(LeaveResponse))]
[JsonSerializable(typeof(KvEntryDto[]))]
[JsonSerializable(typeof(KvPutRequest))]
[JsonSerializable(typeof(KvWriteResponse))]
[JsonSerializable(typeof(KvChangeDto))]
[JsonSerializable(typeof(MemberEventDto))]
[JsonSerializable(typeof(EventSendRequest))]
[JsonSerializable(typeof(EventSentDto))]
[JsonSerializable(typeof(EventDto))]
[JsonSerializable(typeof(EventDto[]))]
[JsonSerializable(typeof(QueryPostRequest))]
[JsonSerializable(typeof(QueryResultDto))]
[JsonSerializable(typeof(AggregateDto))]
[JsonSerializable(typeof(AggregateDto[]))]
[JsonSerializable(typeof(IReadOnlyList<AggregateDto>))]
[JsonSerializable(typeof(AggregateStartRequest))]
[JsonSerializable(typeof(AggregateStoppedDto))]
[JsonSerializable(typeof(TagsUpdateRequest))]
[JsonSerializable(typeof(TagsDto))]
[JsonSerializable(typeof(ForceLeaveDto))]
[JsonSerializable(typeof(InfoDto))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(IReadOnlyList<MemberDto>))]
[JsonSerializable(typeof(IReadOnlyList<KvEntryDto>))]
[JsonSerializable(typeof(IReadOnlyList<EventDto>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(ApiProblem))]
[JsonSerializable(typeof(KeyRequest))]
[JsonSerializable(typeof(KeysResponse))]
[JsonSerializable(typeof(NodeCoordinateDto[]))]
[JsonSerializable(typeof(RttEstimateDto))]
[JsonSerializable(typeof(StreamEvent))]
[JsonSerializable(typeof(StreamDroppedDto))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class RumorJsonContext : JsonSerializerContext;
