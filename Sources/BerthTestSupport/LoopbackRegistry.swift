public import Foundation

/// A real image registry for tests: Debian's `docker-registry` (distribution 2.8) serving
/// on 127.0.0.1 (which dockerd trusts as an insecure registry by default), optionally with
/// htpasswd basic auth (`htpasswd -B`). Started with a bounded wait, always stopped by
/// `stop()`; its storage is a temporary folder. Images are pushed into it with the docker
/// CLI under a private `DOCKER_CONFIG`, so no test touches `~/.docker/config.json`.
public final class LoopbackRegistry: @unchecked Sendable {
    public let port: Int
    /// `127.0.0.1:PORT`: the registry host part of image references.
    public var host: String { "127.0.0.1:\(port)" }
    public let credentials: (user: String, password: String)?
    let folder: TemporaryDirectory
    /// A Docker config folder for the CLI (its login, when the registry has auth).
    public var dockerConfig: String { folder.path + "/docker-config" }
    private let process: ChildProcess

    /// Starts the registry; with `user`/`password`, only they may push and pull.
    public init(user: String? = nil, password: String? = nil, timeout: Duration = .seconds(20)) throws {
        folder = try TemporaryDirectory(prefix: "berth-registry")
        port = try Self.freePort()
        var auth = ""
        if let user, let password {
            credentials = (user, password)
            let result = try ProcessRunner.run(
                URL(fileURLWithPath: "/usr/bin/htpasswd"), ["-Bbn", user, password], timeout: .seconds(30))
            guard result.status == 0 else { throw Failure("htpasswd failed: \(result.stderr)") }
            try folder.write("htpasswd", result.stdout)
            auth = "auth:\n  htpasswd:\n    realm: berth-test\n    path: \(folder.path)/htpasswd\n"
        } else {
            credentials = nil
        }
        try folder.write(
            "config.yml",
            """
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: \(folder.path)/data
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
            \(auth)
            """)
        try FileManager.default.createDirectory(atPath: folder.path + "/docker-config", withIntermediateDirectories: true)
        process = try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/docker-registry"), ["serve", folder.path + "/config.yml"],
            stdout: .file(folder.path + "/registry.log"), stderr: .appendToFile(folder.path + "/registry.log"))
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !Self.answers(port: port) {
            guard process.isRunning, clock.now < deadline else {
                let log = (try? String(contentsOfFile: folder.path + "/registry.log", encoding: .utf8)) ?? ""
                stop()
                throw Failure("docker-registry did not answer on 127.0.0.1:\(port) within \(timeout): \(log.suffix(2000))")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        if let credentials {
            let login = try docker(["login", "-u", credentials.user, "--password-stdin", host], stdin: credentials.password)
            guard login.status == 0 else {
                stop()
                throw Failure("docker login to \(host) failed: \(login.stderr)")
            }
        }
    }

    /// Stops the registry and removes its storage (idempotent).
    public func stop() {
        _ = process.terminate(SIGTERM, grace: .seconds(5))
        folder.remove()
    }

    deinit { stop() }

    /// The docker CLI under this registry's private config.
    @discardableResult
    public func docker(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(120)) throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_CONFIG"] = dockerConfig
        return try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/docker"), arguments, environment: environment, stdin: stdin, timeout: timeout)
    }

    /// Tags local `image` as `host/name:tag` and pushes it; returns the pushed reference
    /// and its digest (`sha256:…`). The local tag is removed again.
    @discardableResult
    public func push(_ image: String, as name: String, tag: String) throws -> (reference: String, digest: String) {
        let reference = "\(host)/\(name):\(tag)"
        let tagged = try docker(["tag", image, reference])
        guard tagged.status == 0 else { throw Failure("docker tag \(image) \(reference): \(tagged.stderr)") }
        defer { _ = try? docker(["rmi", reference]) }
        let pushed = try docker(["push", reference])
        guard pushed.status == 0 else { throw Failure("docker push \(reference): \(pushed.stderr)\(pushed.stdout)") }
        // "1.0: digest: sha256:… size: 528"
        guard let range = pushed.stdout.range(of: "digest: sha256:") else { throw Failure("no digest in: \(pushed.stdout)") }
        let digest = "sha256:" + pushed.stdout[range.upperBound...].prefix(64)
        return (reference, String(digest))
    }

    static func answers(port: Int) -> Bool {
        guard let result = try? ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "2", "http://127.0.0.1:\(port)/v2/"],
            timeout: .seconds(5))
        else { return false }
        return result.stdout == "200" || result.stdout == "401"
    }

    /// A port the kernel just handed out and released (bind to 0).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
