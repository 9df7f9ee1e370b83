using Rumor.Agent;
using Rumor.Cli;

StartupTrace.Mark("main");
using ShutdownSignal signal = new();
return await RumorCommand.RunAsync(args, Console.Out, Console.Error, signal.Token);
