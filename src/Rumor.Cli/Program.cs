using Rumor.Cli;

using ShutdownSignal signal = new();
return await RumorCommand.RunAsync(args, Console.Out, Console.Error, signal.Token);
