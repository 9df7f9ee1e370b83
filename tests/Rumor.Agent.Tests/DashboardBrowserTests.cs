using System.Net;
using System.Net.Http.Json;

namespace Rumor.Agent.Tests;

/// <summary>The dashboard in a real headless chromium: live member states and the key-value browser.</summary>
public sealed class DashboardBrowserTests
{
    private static readonly TimeSpan UiBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_dashboard_shows_members_live_and_a_failed_member_turns_dead()
    {
        await using RumorAgent a = await Agents.StartAsync("web-a");
        await using RumorAgent b = await Agents.StartAsync("web-b", a);
        RumorAgent c = await Agents.StartAsync("web-c", a, leaveOnStop: false);
        try
        {
            await using HeadlessChromium browser = await HeadlessChromium.StartAsync();
            await browser.NavigateAsync(a.Url);

            await browser.WaitForAsync(
                "three alive rows",
                "document.querySelectorAll('#members tbody tr[data-state=\"alive\"]').length === 3 ? 'yes' : ''",
                UiBound);
            string names = await browser.WaitForAsync("the member names", "[...document.querySelectorAll('#members tbody tr')].map(r => r.dataset.name).join(',')", UiBound);
            Assert.Equal("web-a,web-b,web-c", names);
            await browser.WaitForAsync("the live stream to connect", "document.getElementById('connection').textContent === 'live' ? 'yes' : ''", UiBound);

            // An abrupt stop (no leave): the others must detect it; the page must follow without a reload.
            await c.DisposeAsync();
            string failing = await browser.WaitForAsync(
                "web-c suspect or dead",
                "(() => { const r = document.querySelector('#members tbody tr[data-name=\"web-c\"]'); return r && (r.dataset.state === 'suspect' || r.dataset.state === 'dead') ? r.dataset.state : ''; })()",
                TimeSpan.FromSeconds(60));
            Assert.Contains(failing, (string[])["suspect", "dead"]);
            await browser.WaitForAsync(
                "web-c dead",
                "document.querySelector('#members tbody tr[data-name=\"web-c\"]')?.dataset.state === 'dead' ? 'yes' : ''",
                TimeSpan.FromSeconds(60));
            string events = await browser.WaitForAsync("a member event in the event panel", "document.getElementById('events').innerText", UiBound);
            Assert.Contains("web-c", events, StringComparison.Ordinal);

            // A key set through the API on another agent appears in the key-value browser.
            using HttpClient clientB = Agents.Client(b);
            using HttpResponseMessage put = await clientB.PutAsJsonAsync("/v1/kv/dashboard/greeting", new { value = "hello from web-b" });
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            string row = await browser.WaitForAsync(
                "the key in the KV browser",
                "document.querySelector('#kv tbody tr[data-key=\"dashboard/greeting\"]')?.innerText ?? ''",
                UiBound);
            Assert.Contains("hello from web-b", row, StringComparison.Ordinal);
            Assert.Contains("web-b", row, StringComparison.Ordinal);

            string convergence = await browser.WaitForAsync("the convergence indicator", "document.getElementById('convergence').dataset.converged ?? ''", UiBound);
            Assert.Contains(convergence, (string[])["true", "false"]);
            string chart = await browser.WaitForAsync("a traffic chart line", "document.querySelectorAll('#traffic-chart polyline').length > 0 ? 'yes' : ''", UiBound);
            Assert.Equal("yes", chart);
        }
        finally
        {
            await c.DisposeAsync();
        }
    }
}
