// A plain .NET generic-host service that joins a Rumor cluster. Configure it in appsettings.json
// (section "Rumor") or with environment variables: Rumor__Name=a Rumor__Bind=127.0.0.1:7946,
// Rumor__Seeds__0=127.0.0.1:7947. Run two copies with different names and ports to see them meet.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Rumor.Hosting;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Services.AddRumor(builder.Configuration.GetSection(RumorOptions.SectionName));
builder.Services.AddHostedService<MemberPrinter>();
await builder.Build().RunAsync();

/// <summary>Prints every membership change this node sees.</summary>
internal sealed class MemberPrinter(RumorNode node) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await node.Started.WaitAsync(stoppingToken);
        await foreach (Rumor.Core.GossipEvent e in node.SubscribeAsync(stoppingToken))
        {
            if (e is Rumor.Core.MemberChanged changed)
            {
                Console.WriteLine($"{changed.Member.Name} {changed.Member.Address}: {changed.Kind}");
            }
        }
    }
}
