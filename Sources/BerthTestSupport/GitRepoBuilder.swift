public import Foundation

/// Builds real git repositories in a temporary folder with the git CLI, for tests and
/// benchmarks. Each commit gets a deterministic date (one minute after the previous, from
/// 2026-01-01T00:00:00 in the builder's UTC offset) unless told otherwise; system and user git
/// configuration are ignored (HOME points into the temporary folder).
public final class GitRepoBuilder: @unchecked Sendable {  // used from one test at a time
    public let root: TemporaryDirectory
    /// The work tree (or, for a bare repository, the repository folder).
    public let path: String
    public var offset: String
    private var clock: Int64 = 1_767_225_600  // 2026-01-01T00:00:00Z

    public init(bare: Bool = false, branch: String = "main", offset: String = "+0100") throws {
        root = try TemporaryDirectory(prefix: "berth-git")
        path = root.path + "/repo"
        self.offset = offset
        try FileManager.default.createDirectory(atPath: root.path + "/home", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try git(bare ? ["init", "-q", "--bare", "-b", branch] : ["init", "-q", "-b", branch])
    }

    public func cleanup() { root.remove() }

    /// The environment every git command runs with.
    public var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = root.path + "/home"
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_CONFIG_GLOBAL"] = "/dev/null"
        env["GIT_TERMINAL_PROMPT"] = "0"
        return env
    }

    /// Runs git in the repository and returns its standard output (trailing newline removed).
    @discardableResult
    public func git(_ arguments: [String], input: Data? = nil, extraEnvironment: [String: String] = [:]) throws -> String {
        let result = try ProcessRunner.runRaw(
            URL(fileURLWithPath: "/usr/bin/git"),
            ["-c", "user.name=Berth Test", "-c", "user.email=test@berth.invalid", "-c", "commit.gpgsign=false"] + arguments,
            in: URL(fileURLWithPath: path), environment: environment.merging(extraEnvironment) { $1 }, stdin: input,
            timeout: .seconds(600))
        guard result.status == 0 else {
            throw GitRepoBuilderError(
                message: "git \(arguments.joined(separator: " ")) failed (\(result.status)): "
                    + String(decoding: result.stderr, as: UTF8.self))
        }
        let output = result.stdout
        var text = String(decoding: output, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    @discardableResult
    public func git(_ arguments: String...) throws -> String { try git(arguments) }

    /// Writes a file in the work tree (folders created as needed).
    public func write(_ relativePath: String, _ contents: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: url)
    }

    public func remove(_ relativePath: String) throws { try git("rm", "-q", "-r", relativePath) }

    public func move(_ from: String, _ to: String) throws {
        let target = URL(fileURLWithPath: path).appendingPathComponent(to).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try git("mv", from, to)
    }

    /// Stages everything and commits; returns the new commit's full SHA.
    @discardableResult
    public func commit(_ message: String, author: String = "Ada Lovelace", email: String = "ada@example.com", allowEmpty: Bool = false) throws -> String {
        try git("add", "-A")
        clock += 60
        let date = "\(clock) \(offset)"
        var args = ["commit", "-q", "-m", message]
        if allowEmpty { args.append("--allow-empty") }
        try git(args, extraEnvironment: [
            "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": date,
        ])
        return try git("rev-parse", "HEAD")
    }

    /// The epoch seconds of the last commit made by `commit`.
    public var lastCommitTime: Int64 { clock }

    public func sha(_ revision: String) throws -> String { try git("rev-parse", revision) }

    /// A minimal valid manifest for one service.
    public static func service(_ name: String, image: String, replicas: Int? = nil, env: [String: String] = [:], extra: String = "") -> String {
        var text = "apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: \(name)\nspec:\n  image: \(image)\n"
        if let replicas { text += "  replicas: \(replicas)\n" }
        if !env.isEmpty {
            text += "  env:\n"
            for (key, value) in env.sorted(by: { $0.key < $1.key }) { text += "    \(key): \"\(value)\"\n" }
        }
        return text + extra
    }
}

public struct GitRepoBuilderError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A small shop repository with the history the git tests need, and its commits:
/// - c1 "Add booking and customer" (tagged v1): manifests/booking.yaml, manifests/customer.yaml
/// - c2 "Docs only": README.md
/// - c3 "Bump booking to 1.4.2": image and replicas of booking, its API_TOKEN
/// - c4 "Move booking into shop/": manifests/booking.yaml → manifests/shop/booking.yml
/// - c5 "Break customer": invalid YAML in manifests/customer.yaml
/// - c6 "Fix customer": customer valid again, image shop/customer:2.0
public struct ShopHistory {
    public let builder: GitRepoBuilder
    public let c1, c2, c3, c4, c5, c6: String

    public static let bookingV1 = GitRepoBuilder.service("booking", image: "shop/booking:1.4.1", replicas: 2, env: ["API_TOKEN": "old-secret", "MODE": "fast"])
    public static let bookingV2 = GitRepoBuilder.service("booking", image: "shop/booking:1.4.2", replicas: 3, env: ["API_TOKEN": "new-secret", "MODE": "fast"])
    public static let customerV1 = GitRepoBuilder.service("customer", image: "shop/customer:1.0")
    public static let customerV2 = GitRepoBuilder.service("customer", image: "shop/customer:2.0")

    public init() throws {
        let b = try GitRepoBuilder()
        builder = b
        try b.write("manifests/booking.yaml", Self.bookingV1)
        try b.write("manifests/customer.yaml", Self.customerV1)
        c1 = try b.commit("Add booking and customer")
        try b.git("tag", "v1")
        try b.write("README.md", "# shop\n")
        c2 = try b.commit("Docs only", author: "Grace Hopper", email: "grace@example.com")
        try b.write("manifests/booking.yaml", Self.bookingV2)
        c3 = try b.commit("Bump booking to 1.4.2\n\nCustomers asked for it.\n")
        try b.move("manifests/booking.yaml", "manifests/shop/booking.yml")
        c4 = try b.commit("Move booking into shop/")
        try b.write("manifests/customer.yaml", "apiVersion: berth/v1\nkind: Service\nmetadata: {name: customer\n")
        c5 = try b.commit("Break customer", author: "Grace Hopper", email: "grace@example.com")
        try b.write("manifests/customer.yaml", Self.customerV2)
        c6 = try b.commit("Fix customer")
    }

    public func cleanup() { builder.cleanup() }
}
