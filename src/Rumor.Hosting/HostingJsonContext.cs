using System.Text.Json.Serialization;

namespace Rumor.Hosting;

/// <summary>Source-generated JSON metadata for what the hosting layer reads itself (a keyring file, Serf's JSON array of base64 keys): no reflection (Native AOT).</summary>
[JsonSerializable(typeof(string[]))]
internal sealed partial class HostingJsonContext : JsonSerializerContext;
