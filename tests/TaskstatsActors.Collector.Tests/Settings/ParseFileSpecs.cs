using TaskstatsActors.Collector.Settings;

namespace TaskstatsActors.Collector.Tests.Settings;

public sealed class ParseFileSpecs : IDisposable
{
    private readonly SettingsFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void Includes_should_resolve_relative_to_the_including_file()
    {
        _fixture.Write("etc/common/buffers.conf", "receive-buffer = 8 MiB\ninclude \"more/limits.conf\"\n");
        _fixture.Write("etc/common/more/limits.conf", "max-receive-buffer = 16 MiB\n");
        var main = _fixture.Write("etc/taskstats.conf", "taskstats {\n  include \"common/buffers.conf\"\n  batch-size = 32\n}\n");

        var config = SettingsLoader.ParseFile(main);

        Assert.Equal(8L << 20, config.GetByteSize("taskstats.receive-buffer"));
        Assert.Equal(16L << 20, config.GetByteSize("taskstats.max-receive-buffer"));
        Assert.Equal(32, config.GetInt("taskstats.batch-size"));
    }

    [Fact]
    public void Missing_file_should_be_refused_naming_it()
    {
        var path = _fixture.PathOf("nope.conf");

        var error = Assert.Throws<ConfigException>(() => SettingsLoader.ParseFile(path));

        Assert.Equal(path, error.Key);
        Assert.StartsWith($"{path}: the file does not exist", error.Message);
    }

    [Fact]
    public void Missing_include_should_be_refused_naming_both_files()
    {
        var main = _fixture.Write("taskstats.conf", "include \"extra.conf\"\n");

        var error = Assert.Throws<ConfigException>(() => SettingsLoader.ParseFile(main));

        Assert.Equal(main, error.Key);
        Assert.Contains($"include \"extra.conf\": {_fixture.PathOf("extra.conf")} does not exist", error.Message);
    }

    [Fact]
    public void Include_cycle_should_be_refused()
    {
        var main = _fixture.Write("a.conf", "include \"b.conf\"\n");
        _fixture.Write("b.conf", "include \"a.conf\"\n");

        var error = Assert.Throws<ConfigException>(() => SettingsLoader.ParseFile(main));

        Assert.Contains($"includes {main} again", error.Message);
    }

    [Fact]
    public void Parser_error_should_name_the_file_the_line_and_the_parser_message()
    {
        var main = _fixture.Write("bad.conf", "taskstats {\n  sinks { a { x = 1 }, b { x = 2 } }\n}\n");

        var error = Assert.Throws<ConfigException>(() => SettingsLoader.ParseFile(main));

        Assert.Equal(main, error.Key);
        Assert.StartsWith($"{main}: cannot parse it at line 2, column ", error.Message);
        Assert.Contains("Unknown token", error.Message);
        Assert.NotNull(error.InnerException);
    }

    [Fact]
    public void Parser_error_in_an_include_should_name_the_included_file()
    {
        var included = _fixture.Write("inc.conf", "a = ${missing}\n");
        var main = _fixture.Write("main.conf", "include \"inc.conf\"\n");

        var error = Assert.Throws<ConfigException>(() => SettingsLoader.ParseFile(main));

        Assert.Equal(included, error.Key);
        Assert.Contains("Unresolved substitution", error.Message);
    }
}
