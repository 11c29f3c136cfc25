import Foundation

/// `<state-dir>/proxy-<project>.json`: where a running `berth proxy` takes control calls.
public struct ProxyStateFile: Codable, Sendable, Hashable {
    public var formatVersion = 1
    public var project: String
    public var controlHost: String
    public var controlPort: Int
    public var pid: Int32

    public init(project: String, controlHost: String, controlPort: Int, pid: Int32) {
        self.project = project
        self.controlHost = controlHost
        self.controlPort = controlPort
        self.pid = pid
    }

    public static func path(directory: String, project: String) -> String {
        (directory as NSString).appendingPathComponent("proxy-\(project).json")
    }

    public func write(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(self) + Data("\n".utf8)
        let url = URL(fileURLWithPath: Self.path(directory: directory, project: project))
        try data.write(to: url, options: .atomic)
    }

    public static func read(directory: String, project: String) throws -> ProxyStateFile {
        let path = path(directory: directory, project: project)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProxyError("\(path): no such file; start the balancer first: berth proxy --project \(project)")
        }
        do {
            return try JSONDecoder().decode(ProxyStateFile.self, from: data)
        } catch {
            throw ProxyError("\(path): not a berth proxy state file: \(error)")
        }
    }
}
