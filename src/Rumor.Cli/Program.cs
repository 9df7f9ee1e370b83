using Rumor.Agent;
using Rumor.Cli;

StartupTrace.Mark("main");
// `rumor cluster` restarts itself once with a gen0 budget sized for its node count (ClusterHeap).
ClusterHeap.ReplaceProcessIfNeeded(args, Console.Error);
using ShutdownSignal signal = new();
return await RumorCommand.RunAsync(args, Console.Out, Console.Error, signal.Token);
