import Foundation
import Testing

/// The module rules of README's "Development" section, checked on the source tree:
/// arrows point down, the balancer depends on BerthCore, BerthNet and NIO only, and
/// BerthCore does no I/O. A failure names the file and the line that broke the rule.
@Suite struct ArchitectureTests {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// Every `.swift` file under `Sources/<module>`, as (repo-relative path, lines).
    static func sources(_ module: String) throws -> [(path: String, lines: [Substring])] {
        let folder = root.appendingPathComponent("Sources/\(module)")
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        var out: [(String, [Substring])] = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            out.append((String(url.path.dropFirst(root.path.count + 1)), text.split(separator: "\n", omittingEmptySubsequences: false)))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// `import X`, `public import X`, `@testable import X`, `import struct X.Y` → X.
    static func importedModule(_ line: Substring) -> String? {
        var words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
        if let first = words.first, ["public", "internal", "package", "private", "fileprivate"].contains(first) {
            words.removeFirst()
        }
        guard words.first == "import", words.count >= 2 else { return nil }
        let name = words.count >= 3 && ["struct", "class", "enum", "protocol", "func", "typealias", "var", "let"].contains(words[1])
            ? words[2] : words[1]
        return String(name.split(separator: ".").first ?? name)
    }

    /// Lines of `module` importing a module outside `allowed`, as `path:line: import X`.
    static func disallowedImports(_ module: String, allowed: Set<String>) throws -> [String] {
        var out: [String] = []
        for file in try sources(module) {
            for (index, line) in file.lines.enumerated() {
                if let imported = importedModule(line.drop { $0 == " " }), !allowed.contains(imported) {
                    out.append("\(file.path):\(index + 1): import \(imported)")
                }
            }
        }
        return out
    }

    /// The names in a target's `dependencies: [...]` in Package.swift (products by name).
    static func packageDependencies(of target: String) throws -> Set<String> {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        guard let start = manifest.range(of: "name: \"\(target)\"") else { return [] }
        let rest = manifest[start.upperBound...]
        guard let open = rest.range(of: "dependencies: ["), let close = rest.range(of: "]", range: open.upperBound..<rest.endIndex)
        else { return [] }
        let list = rest[open.upperBound..<close.lowerBound]
        var names: Set<String> = []
        var scanner = list[...]
        while let quote = scanner.firstIndex(of: "\"") {
            let after = scanner.index(after: quote)
            guard let end = scanner[after...].firstIndex(of: "\"") else { break }
            names.insert(String(scanner[after..<end]))
            scanner = scanner[scanner.index(after: end)...]
        }
        return names
    }

    static let nio: Set<String> = ["NIOCore", "NIOPosix", "NIOHTTP1", "NIOConcurrencyHelpers"]

    @Test func theBalancerDependsOnBerthCoreBerthNetAndNIOOnly() throws {
        let allowed: Set<String> = Self.nio.union(["BerthCore", "BerthNet", "CEpoll", "Foundation", "Logging", "Glibc", "Dispatch"])
        #expect(try Self.disallowedImports("BerthProxy", allowed: allowed) == [])
        let dependencies = try Self.packageDependencies(of: "BerthProxy")
        #expect(dependencies.contains("BerthCore"))
        #expect(dependencies.intersection(["BerthEngine", "BerthDocker", "BerthGit", "BerthYAML"]) == [])
    }

    /// BerthCore is pure: it imports BerthYAML and, for `JSONEncoder` alone, Foundation; it
    /// never names Foundation's I/O (files, processes, the environment, the network, the
    /// clock, threads and queues), nor imports the C library, Dispatch, NIO or logging.
    @Test func berthCoreDoesNoIO() throws {
        #expect(try Self.disallowedImports("BerthCore", allowed: ["BerthYAML", "Foundation"]) == [])
        let forbidden = [
            "FileManager", "FileHandle", "Process(", "ProcessInfo", "URLSession", "URLRequest", "Date()", "Date.now",
            "DispatchQueue", "Thread.", "NSLock", "getenv(", "fopen(", "Data(contentsOf", "contentsOfFile",
            "write(to:", "ContinuousClock.now", "SuspendingClock.now", "Task.sleep",
        ]
        var found: [String] = []
        for file in try Self.sources("BerthCore") {
            for (index, line) in file.lines.enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? line
                for word in forbidden where code.contains(word) { found.append("\(file.path):\(index + 1): \(word)") }
            }
        }
        #expect(found == [])
    }

    @Test func sharedNetworkingDependsOnBerthCoreAndNIOOnly() throws {
        #expect(try Self.disallowedImports("BerthNet", allowed: Self.nio.union(["BerthCore", "Foundation", "Dispatch"])) == [])
    }

    @Test func theEngineNeverImportsTheDockerAdapter() throws {
        #expect(try Self.disallowedImports("BerthEngine", allowed: Self.nio.union([
            "BerthCore", "BerthGit", "BerthNet", "BerthYAML", "CSQLite", "CZlib", "Foundation", "Logging", "Glibc", "Dispatch",
            "Synchronization",
        ])) == [])
    }

    @Test func theImportScannerReadsEverySpelling() {
        #expect(Self.importedModule("import BerthCore") == "BerthCore")
        #expect(Self.importedModule("public import BerthDocker") == "BerthDocker")
        #expect(Self.importedModule("@testable import BerthEngine") == "BerthEngine")
        #expect(Self.importedModule("import struct BerthDocker.DockerClient") == "BerthDocker")
        #expect(Self.importedModule("let x = 1") == nil)
    }
}
