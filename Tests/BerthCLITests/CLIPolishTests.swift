import Foundation
import Testing
import BerthTestSupport

/// Issue 17, items 3 and 6, run as the built binary against real git repositories: colour
/// (`--color`, `NO_COLOR`), shell completion of service names, one state folder (`--state-dir`
/// = `BERTH_STATE_DIR/<project>`) with the git cache apart (`BERTH_CACHE_DIR`).
@Suite struct CLIPolishTests {
    static let esc = "\u{1B}"

    static func environment(_ shop: ShopHistory, _ extra: [String: String] = [:]) -> [String: String] {
        var env = shop.builder.environment
        env["XDG_CACHE_HOME"] = shop.builder.root.path + "/cache"
        env["XDG_STATE_HOME"] = shop.builder.root.path + "/xdg-state"
        env["NO_COLOR"] = nil
        return env.merging(extra) { $1 }
    }

    static func run(_ shop: ShopHistory, _ arguments: [String], _ extra: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.berth(arguments, in: URL(fileURLWithPath: shop.builder.path), environment: environment(shop, extra))
    }

    static func noJournal(_ folder: String) -> String {
        "error: journal \(folder)/journal.sqlite: open failed: no journal here yet; `berth watch` creates it on its first sync (see --state-dir) (SQLite code 14); check that the state directory is writable and not shared with another berth watch of the same project\n"
    }

    // MARK: colour

    @Test func diffAndHistoryInColourWhenAskedAndNeverOtherwise() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let e = Self.esc
        let plain = try Self.run(shop, ["diff", "v1", "--color", "never"])
        #expect(plain.status == 0)
        #expect(!plain.stdout.contains(e))
        let coloured = try Self.run(shop, ["diff", "v1", "--color", "always"])
        #expect(coloured.status == 0)
        // Every change line painted by its symbol, the summary left plain.
        let expected = plain.stdout.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("~ ") || line.hasPrefix("   ") && line.contains(" → ") { return "\(e)[33m\(line)\(e)[0m" }
            if line.hasPrefix("+ ") { return "\(e)[32m\(line)\(e)[0m" }
            if line.hasPrefix("- ") { return "\(e)[31m\(line)\(e)[0m" }
            return String(line)
        }.joined(separator: "\n")
        #expect(coloured.stdout == expected)
        #expect(coloured.stdout.contains("\(e)[33m~ booking   spec.env.API_TOKEN: "), "\(coloured.stdout)")
        // --color always wins over NO_COLOR; auto (not a terminal here) and NO_COLOR do not colour.
        #expect(try Self.run(shop, ["diff", "v1", "--color", "always"], ["NO_COLOR": "1"]).stdout == coloured.stdout)
        #expect(try Self.run(shop, ["diff", "v1"]).stdout == plain.stdout)

        let history = try Self.run(shop, ["history", "customer", "--color=always"])
        #expect(history.status == 0)
        #expect(history.stdout.hasPrefix("\(e)[1;33mcommit \(shop.c6)\(e)[0m\nAuthor: "), "\(history.stdout)")
        #expect(history.stdout.contains("\n\(e)[33m  ~ customer  spec.image: shop/customer:1.0 → shop/customer:2.0\(e)[0m\n"), "\(history.stdout)")
        #expect(try Self.run(shop, ["history", "customer", "--color", "never"]).stdout.contains(e) == false)
        let bad = try Self.run(shop, ["history", "--color", "sometimes"])
        #expect(bad.status == 64)
    }

    @Test func planStepsInColour() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let e = Self.esc
        let result = try Self.run(shop, ["plan", "--observed", "none", "--project", "shop", "--color", "always"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "\(e)[1mBerth plan for project shop at commit \(shop.c6.prefix(7)) (prune: on)\(e)[0m")
        #expect(lines.contains("\(e)[1mwave 0:\(e)[0m"))
        let creates = lines.filter { $0.contains("create") && $0.hasPrefix("\(e)[32m  + create ") && $0.hasSuffix("\(e)[0m") }
        #expect(creates.count == 2, "\(result.stdout)")
    }

    // MARK: completion

    @Test func serviceNamesComplete() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let script = try Self.run(shop, ["--generate-completion-script", "bash"])
        #expect(script.status == 0)
        #expect(script.stdout.contains("---completion history -- positional@0"))
        #expect(script.stdout.contains("---completion scale -- positional@0"))
        let some = try Self.run(shop, ["---completion", "history", "--", "positional@0", "0", "1", "b"])
        #expect(some == ProcessResult(stdout: "booking\n", stderr: "", status: 0))
        let all = try Self.run(shop, ["---completion", "logs", "--", "positional@0", "0", "0", ""])
        #expect(all == ProcessResult(stdout: "booking\ncustomer\n", stderr: "", status: 0))
        // No repository: nothing, and no error.
        let nowhere = try Self.run(shop, ["---completion", "logs", "--", "positional@0", "2", "0", "--repo", "/nonexistent", ""])
        #expect(nowhere == ProcessResult(stdout: "", stderr: "", status: 0))
    }

    // MARK: state folder and cache

    @Test func oneStateFolderByFlagOrVariableAndTheCacheApart() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let root = shop.builder.root.path
        let byVariable = ["BERTH_STATE_DIR": root + "/by-variable", "BERTH_CACHE_DIR": root + "/cache-dir"]
        let suspended = try Self.run(shop, ["suspend", "--project", "shop"], byVariable)
        #expect(suspended.status == 0, "\(suspended.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/by-variable/shop/controls.json"))
        #expect(FileManager.default.fileExists(atPath: root + "/by-variable/shop/journal.sqlite"))
        // One folder per project under the variable: another project's state is apart.
        #expect(try Self.run(shop, ["suspend", "--project", "other"], byVariable).status == 0)
        #expect(FileManager.default.fileExists(atPath: root + "/by-variable/other/controls.json"))
        #expect(!FileManager.default.fileExists(atPath: root + "/by-variable/controls.json"))
        #expect(!FileManager.default.fileExists(atPath: root + "/xdg-state/berth/shop"))
        // Every command reads the same folder from the variable; the flag wins over it.
        let journal = try Self.run(shop, ["journal", "--project", "shop"], byVariable)
        #expect(journal.status == 0)
        #expect(journal.stdout.contains("\n    suspend (project)  succeeded  0ms  project shop: suspended by "), "\(journal.stdout)")
        let flagged = try Self.run(shop, ["journal", "--project", "shop", "--state-dir", root + "/elsewhere"], byVariable)
        #expect(flagged == ProcessResult(stdout: "", stderr: Self.noJournal(root + "/elsewhere"), status: 1))
        // The caches are in BERTH_CACHE_DIR, not in the state folder.
        #expect(try Self.run(shop, ["history", "booking", "--limit", "1"], byVariable).status == 0)
        #expect(FileManager.default.fileExists(atPath: root + "/cache-dir/history"))
        #expect(!FileManager.default.fileExists(atPath: root + "/by-variable/history"))
        // Without BERTH_CACHE_DIR, BERTH_STATE_DIR keeps the caches as it did.
        #expect(try Self.run(shop, ["history", "booking", "--limit", "1"], ["BERTH_STATE_DIR": root + "/old-style"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: root + "/old-style/history"))
    }

    @Test func aJournalLeftAtTheOldDefaultIsSaid() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let root = shop.builder.root.path
        #expect(try Self.run(shop, ["suspend", "--project", "shop"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: root + "/xdg-state/berth/shop/journal.sqlite"))
        let moved = try Self.run(shop, ["journal", "--project", "shop"], ["BERTH_STATE_DIR": root + "/new"])
        #expect(moved == ProcessResult(
            stdout: "",
            stderr: """
                warning: BERTH_STATE_DIR (\(root)/new) holds each project's state folder now (\(root)/new/shop); it named the git cache before (now BERTH_CACHE_DIR). Project shop's journal is still in \(root)/xdg-state/berth/shop: pass --state-dir \(root)/xdg-state/berth/shop, or move its files to \(root)/new/shop

                """ + Self.noJournal(root + "/new/shop"),
            status: 1))
    }
}
