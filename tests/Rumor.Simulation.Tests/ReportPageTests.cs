using Rumor.Simulation.Experiments;

namespace Rumor.Simulation.Tests;

/// <summary>
/// The marker replacement behind the bench's <c>report</c> command (docs/BENCHMARKS.md): it must
/// rewrite exactly the generated sections, keep every other character of the page, and refuse a
/// page whose markers are missing, duplicated or unpaired rather than guess.
/// </summary>
public sealed class ReportPageTests
{
    private const string Page =
        "# Title\n\nHand-written prose, kept.\n\n<!-- report:header:begin -->\nold header\n<!-- report:header:end -->\n\n" +
        "## A\n\nProse about A | with a pipe.\n\n<!-- report:a:begin -->\n| old | table |\n|---|---|\n| 1 | 2 |\n<!-- report:a:end -->\n\n" +
        "After A, kept.\n\n<!-- report:b:begin -->\nold b\n<!-- report:b:end -->\nTail without newline";

    [Fact]
    public void Replaces_the_named_sections_and_keeps_everything_else()
    {
        string result = ReportPage.Replace(Page, new Dictionary<string, string> { ["a"] = "| new | table |\n|---|---|\n| 3 | 4 |\n", ["header"] = "Measured at commit abc" });

        string expected = Page
            .Replace("| old | table |\n|---|---|\n| 1 | 2 |\n", "| new | table |\n|---|---|\n| 3 | 4 |\n", StringComparison.Ordinal)
            .Replace("old header\n", "Measured at commit abc\n", StringComparison.Ordinal);
        Assert.Equal(expected, result);
        Assert.Contains("old b", result, StringComparison.Ordinal); // not named: untouched
        Assert.Equal(["header", "a", "b"], ReportPage.Sections(result));
    }

    [Fact]
    public void Replacing_twice_gives_the_same_page_and_an_empty_section_stays_well_formed()
    {
        Dictionary<string, string> contents = new() { ["a"] = "x\n\n\n", ["b"] = "" };
        string once = ReportPage.Replace(Page, contents);
        Assert.Equal(once, ReportPage.Replace(once, contents));
        Assert.Contains("<!-- report:a:begin -->\nx\n<!-- report:a:end -->", once, StringComparison.Ordinal);
        Assert.Contains("<!-- report:b:begin -->\n<!-- report:b:end -->", once, StringComparison.Ordinal);
    }

    [Fact]
    public void Keeps_crlf_line_endings()
    {
        string crlf = Page.Replace("\n", "\r\n", StringComparison.Ordinal);
        string result = ReportPage.Replace(crlf, new Dictionary<string, string> { ["a"] = "one\ntwo" });
        Assert.Contains("<!-- report:a:begin -->\r\none\r\ntwo\r\n<!-- report:a:end -->", result, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", result.Replace("\r\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void A_section_missing_from_the_page_is_refused()
    {
        FormatException e = Assert.Throws<FormatException>(() => ReportPage.Replace(Page, new Dictionary<string, string> { ["c"] = "new" }));
        Assert.Contains("'c'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<!-- report:a:begin -->\nx\n<!-- report:a:end -->\n<!-- report:a:begin -->\ny\n<!-- report:a:end -->\n", "twice")]
    [InlineData("<!-- report:a:begin -->\nx\n", "has no")]
    [InlineData("x\n<!-- report:a:end -->\n", "without")]
    [InlineData("<!-- report:a:begin -->\n<!-- report:b:begin -->\n<!-- report:b:end -->\n<!-- report:a:end -->\n", "inside")]
    [InlineData("<!-- report:a:begin -->\n<!-- report:b:end -->\n", "inside")]
    [InlineData("text <!-- report:a:begin -->\n<!-- report:a:end -->\n", "line of its own")]
    public void Broken_markers_are_refused_whatever_is_asked(string page, string message)
    {
        FormatException e = Assert.Throws<FormatException>(() => ReportPage.Replace(page, new Dictionary<string, string>()));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => ReportPage.Sections(page));
    }

    [Fact]
    public void The_benchmarks_page_has_well_formed_markers_for_every_generated_section()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Rumor.slnx")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Rumor.slnx not found above the test's directory");
        }

        IReadOnlyList<string> sections = ReportPage.Sections(File.ReadAllText(Path.Combine(root, "docs", "BENCHMARKS.md")));
        Assert.Contains("header", sections);
        Assert.True(sections.Count >= 10, $"expected the generated sections, found {string.Join(", ", sections)}");
    }
}
