import Foundation
import Testing

/// Issue 11's shape rules, checked on the source tree: one interpreter of a plan (the
/// executor; `RuntimeApplier`, a second one that drifted from it, must not come back), small
/// files, and a scheduler that only schedules.
@Suite struct EngineShapeTests {
    /// Every `.swift` file under Sources, as (repo-relative path, line count), sorted.
    static func sourceFiles() throws -> [(path: String, lines: Int)] {
        let root = ArchitectureTests.root
        let folder = root.appendingPathComponent("Sources")
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        var out: [(String, Int)] = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count - (text.hasSuffix("\n") ? 1 : 0)
            out.append((String(url.path.dropFirst(root.path.count + 1)), lines))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    @Test func thereIsOneInterpreterOfAPlan() throws {
        let files = try Self.sourceFiles().map(\.path)
        #expect(files.count > 100)
        #expect(files.filter { $0.hasSuffix("/RuntimeApplier.swift") || $0.hasSuffix("/PlanApplier.swift") } == [])
        var declarations: [String] = []
        for path in files {
            let text = try String(contentsOf: ArchitectureTests.root.appendingPathComponent(path), encoding: .utf8)
            for name in ["RuntimeApplier", "PlanApplier"] where text.contains("struct \(name)") || text.contains("protocol \(name)")
                || text.contains("class \(name)") || text.contains("actor \(name)")
            {
                declarations.append("\(path): \(name)")
            }
        }
        #expect(declarations == [])
    }

    /// Files over 600 lines that await a split, at most as long as they are now; no other.
    static let longFilesAwaitingASplit: [String: Int] = [
        "Sources/berth-bench/SwarmBench.swift": 670,
    ]

    @Test func noSourceFileIsLongerThan600LinesAndTheSchedulerStaysSmall() throws {
        let files = try Self.sourceFiles()
        let long = files.filter { $0.lines > (Self.longFilesAwaitingASplit[$0.path] ?? 600) }.map { "\($0.path): \($0.lines) lines" }
        #expect(long == [])
        let loop = try #require(files.first { $0.path == "Sources/BerthEngine/Loop/ReconcileLoop.swift" })
        #expect(loop.lines < 400, "ReconcileLoop.swift has \(loop.lines) lines: it schedules the sync pipeline, nothing else")
    }
}
