import Testing
@testable import berth

/// `berth diff`, `berth history`, `berth validate` and `berth --version` read plain command
/// lines without ArgumentParser; what
/// they read must be exactly what ArgumentParser reads, and everything else must be left
/// to ArgumentParser.
@Suite struct FastArgumentsTests {
    func diffFields(_ c: DiffCommand) -> [String?] {
        [c.from, c.to, c.source.repo, c.source.ref, c.source.path, c.format.rawValue, String(c.detailedExitcode), c.colour.color.rawValue]
    }

    func historyFields(_ c: HistoryCommand) -> [String?] {
        [c.service, c.source.repo, c.source.ref, c.source.path, c.limit.map(String.init), c.since, c.format.rawValue,
         String(c.applied), c.projectOptions.project, c.stateDir, c.colour.color.rawValue]
    }

    @Test func diffReadsWhatArgumentParserReads() throws {
        let lines: [[String]] = [
            ["diff", "HEAD~100", "HEAD"],
            ["diff", "v1"],
            ["diff", "HEAD~100", "HEAD", "--format", "json"],
            ["diff", "--format=markdown", "main", "feature/x"],
            ["diff", "v1", "--detailed-exitcode", "--repo", "/tmp/r", "--ref", "main", "--path", "deploy/manifests"],
            ["diff", "--repo=file:///srv/shop.git", "a", "--ref=b"],
            ["diff", "v1", "--color", "always"],
            ["diff", "--color=never", "v1"],
        ]
        for line in lines {
            let fast = try #require(Berth.fastCommand(line) as? DiffCommand, "\(line)")
            let parsed = try #require(try Berth.argumentParserCommand(line) as? DiffCommand)
            #expect(diffFields(fast) == diffFields(parsed), "\(line)")
        }
        #expect(diffFields(try #require(Berth.fastCommand(["diff", "a"]) as? DiffCommand)) == ["a", nil, nil, "HEAD", nil, "text", "false", "auto"])
    }

    @Test func historyReadsWhatArgumentParserReads() throws {
        let lines: [[String]] = [
            ["history"],
            ["history", "svc-042", "--format", "json"],
            ["history", "booking", "--limit", "3", "--since", "2026-01-31"],
            ["history", "--limit=+2", "--since=2026-01-31T12:00:00Z", "--format=text", "--ref", "v1", "--path", "m", "--repo", "/r"],
            ["history", "booking", "--color", "always"],
        ]
        for line in lines {
            let fast = try #require(Berth.fastCommand(line) as? HistoryCommand, "\(line)")
            let parsed = try #require(try Berth.argumentParserCommand(line) as? HistoryCommand)
            #expect(historyFields(fast) == historyFields(parsed), "\(line)")
        }
    }

    func validateFields(_ c: ValidateCommand) -> [String?] {
        [c.paths.joined(separator: "|"), c.format.rawValue, c.rev, c.repo, c.path, c.colour.color.rawValue]
    }

    @Test func validateReadsWhatArgumentParserReads() throws {
        let lines: [[String]] = [
            ["validate"],
            ["validate", "manifests"],
            ["validate", "Sources", "Tests", "Package.swift", "--format", "json"],
            ["validate", "--format=text", "Sources"],
            ["validate", "--color", "never", "Sources"],
            ["validate", "--rev", "HEAD"],
            ["validate", "--rev=HEAD~1", "--repo", "/tmp/r", "--path", "deploy", "--format", "json"],
        ]
        for line in lines {
            let fast = try #require(Berth.fastCommand(line) as? ValidateCommand, "\(line)")
            let parsed = try #require(try Berth.argumentParserCommand(line) as? ValidateCommand)
            #expect(validateFields(fast) == validateFields(parsed), "\(line)")
        }
    }

    @Test func versionPrintsWhatArgumentParserPrints() throws {
        let stop = try #require(Berth.argumentParserStop(["--version"]))
        #expect(Berth.fastVersion(["--version"]) == stop.message)
        #expect(stop.status == 0)
        #expect(Berth.fastVersion(["--version"]) == "0.1.0-dev")
        for line in [[], ["--version", "x"], ["validate", "--version"], ["-V"], ["version"]] {
            #expect(Berth.fastVersion(line) == nil, "\(line)")
        }
    }

    @Test func anythingElseIsLeftToArgumentParser() {
        let lines: [[String]] = [
            [], ["--version"], ["validate", "--format", "markdown"], ["validate", "a", "--rev", "HEAD"],
            ["validate", "--repo", "r"], ["validate", "-h"], ["validate", "help"], ["validate", "--strict"],
            ["validate", "no/such/path"], ["diff"], ["diff", "-h"], ["diff", "--help"], ["diff", "a", "b", "c"],
            ["diff", "a", "--format", "yaml"], ["diff", "a", "--format"], ["diff", "a", "--format", "--repo"],
            ["diff", "a", "--ref", "x", "--ref", "y"], ["diff", "a", "--", "b"], ["diff", "a", "--unknown"],
            ["diff", "help"], ["diff", "a", "--detailed-exitcode=yes"], ["diff", "a", "--ref="], ["diff", "-1"],
            ["diff", "a", "--generate-completion-script", "bash"], ["history", "a", "b"], ["history", "--limit", "0"],
            ["history", "--limit", "x"], ["history", "--since", "yesterday"], ["history", "--format", "markdown"],
            ["history", "--applied"], ["history", "--project", "shop"], ["history", "--state-dir", "/s"],
            ["history", "--limit", "-1"], ["plan", "--format", "json"],
        ]
        for line in lines {
            #expect(Berth.fastCommand(line) == nil, "\(line)")
        }
    }
}
