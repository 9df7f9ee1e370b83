using Microsoft.Playwright;

namespace Rumor.Agent.Tests;

/// <summary>
/// Debian's <c>chromium</c> driven by Playwright for .NET. Playwright's driver (a bundled node
/// runtime, copied into the output by the build) starts the browser at <see cref="Executable"/>:
/// nothing is downloaded, no <c>playwright install</c>. When the browser is missing this throws:
/// a browser test must fail loudly, never skip.
/// </summary>
internal static class Chromium
{
    public static string Executable =>
        Environment.GetEnvironmentVariable("RUMOR_CHROMIUM") is { Length: > 0 } configured ? configured
        : File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium"
        : throw new InvalidOperationException("chromium is not installed (expected /usr/bin/chromium, or set RUMOR_CHROMIUM): install it with 'apt-get install -y chromium'; .ci/run does.");

    /// <summary>A headless chromium with a fresh profile; dispose the browser, then the Playwright driver.</summary>
    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        string executable = Executable;
        IPlaywright playwright = await Playwright.CreateAsync();
        try
        {
            IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = executable,
                Headless = true,

                // Containers and CI runners: no user namespaces for the sandbox, a small /dev/shm.
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic"],
                Timeout = 60_000,
            });
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Where screenshots go: the repository's TestResults folder (next to the TRX files .ci/run
    /// collects) when the tests run from a checkout, else the temp directory.
    /// </summary>
    public static string ScreenshotPath(string name)
    {
        DirectoryInfo? directory = new(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Rumor.slnx")))
        {
            directory = directory.Parent;
        }

        string folder = directory is null ? Path.Combine(Path.GetTempPath(), "rumor-test-results") : Path.Combine(directory.FullName, "TestResults");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}
