public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The 3-node Docker Swarm of `scripts/swarm-cluster.sh` (three dockerd, each in its own
/// network namespace on one bridge: leader, second manager, worker), for tests and
/// benchmarks. `up()` tears down any leftover of an earlier run first and fails loudly
/// (the script's own words) when the cluster cannot start; `down()` removes everything —
/// processes, namespaces, bridge, iptables rule, data folders — and is safe to call twice.
///
/// Bring-up takes about 8 s on the 2-core test machine (3 s for the daemons, the rest for
/// `swarm init`/`join` and loading the sample images), so a test suite brings it up once.
public struct SwarmCluster: Sendable, Hashable {
    public struct Node: Sendable, Hashable {
        /// 1, 2 or 3.
        public var number: Int
        /// The node's hostname, as Swarm lists it (`berthsw-n1`).
        public var hostname: String
        /// The node's dockerd (`unix:///run/berth-swarm/n1.sock`), a `DOCKER_HOST` value.
        public var dockerHost: String
        /// The node's address on the cluster bridge, where its host-mode ports answer.
        public var address: String
        /// Leader and second manager: true; the worker: false.
        public var isManager: Bool { number != 3 }
    }

    public var nodes: [Node]

    /// The leader's dockerd: the `DOCKER_HOST` Berth is pointed at.
    public var managerHost: String { nodes[0].dockerHost }

    public func node(_ number: Int) -> Node { nodes[number - 1] }

    /// The node with `hostname` (as a task reports it), if it is one of ours.
    public func node(hostname: String) -> Node? { nodes.first { $0.hostname == hostname } }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `scripts/swarm-cluster.sh` of this package.
    public static func script(filePath: String = #filePath) -> URL {
        var package = URL(fileURLWithPath: filePath)
        for _ in 0..<3 { package = package.deletingLastPathComponent() }
        return package.appendingPathComponent("scripts/swarm-cluster.sh")
    }

    /// Runs the script with `arguments`; its result (bounded by `timeout`).
    @discardableResult
    static func run(_ arguments: [String], timeout: Duration) throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        environment["BERTH_SWARM_SESSION_HELD"] = "1"
        return try ProcessRunner.run(
            URL(fileURLWithPath: "/bin/bash"), [script().path] + arguments, environment: environment, timeout: timeout)
    }

    /// The cluster's session lock (`/run/berth-swarm.session.lock`), held by this process
    /// from `up` to `down`: several worktrees' test runs share the machine, and one run's
    /// `up` would otherwise tear down the cluster another run is using. The kernel releases
    /// it when the process dies.
    static let sessionLock = SessionLock(path: "/run/berth-swarm.session.lock")

    /// Brings the cluster up (about 8 s; at most 3 min, after waiting up to `wait` for
    /// another test run on this machine to finish with it) and returns it. Throws with the
    /// script's output when it cannot: no dockerd, no iproute2, no cgroup to track nodes...
    public static func up(wait: Duration = .seconds(1200)) throws -> SwarmCluster {
        try sessionLock.acquire(within: wait)
        let result: ProcessResult
        do {
            result = try run(["up"], timeout: .seconds(180))
        } catch {
            down()
            throw Failure(description: "the 3-node Swarm did not come up: \(error)")
        }
        guard result.status == 0 else {
            sessionLock.release()
            throw Failure(
                description: "the 3-node Swarm did not come up (scripts/swarm-cluster.sh up exited \(result.status)):\n\(result.stderr)")
        }
        return try parse(environment: result.stdout)
    }

    /// Removes everything `up` made, and lets another test run have the cluster. Never
    /// throws: it is what runs after a failure.
    public static func down() {
        _ = try? run(["down"], timeout: .seconds(120))
        sessionLock.release()
    }

    /// Hard-kills node `number`: its dockerd, containerd, shims and containers (SIGKILL), as
    /// if the machine died. Swarm marks it down about 4 s later (2 s heartbeat).
    public func killNode(_ number: Int) throws {
        let r = try Self.run(["kill-node", "\(number)"], timeout: .seconds(60))
        guard r.status == 0 else { throw Failure(description: "kill-node \(number) failed: \(r.stderr)") }
    }

    /// Stops node `number`'s dockerd as a host shutting down would (SIGTERM: it stops its
    /// containers, then exits; whatever is left after 30 s is killed).
    public func stopNode(_ number: Int) throws {
        let r = try Self.run(["stop-node", "\(number)"], timeout: .seconds(90))
        guard r.status == 0 else { throw Failure(description: "stop-node \(number) failed: \(r.stderr)") }
    }

    /// Starts node `number`'s dockerd again; it rejoins the swarm by itself.
    public func startNode(_ number: Int) throws {
        let r = try Self.run(["start-node", "\(number)"], timeout: .seconds(90))
        guard r.status == 0 else { throw Failure(description: "start-node \(number) failed: \(r.stderr)") }
    }

    /// The cluster described by the script's `env` lines (`BERTH_SWARM_N1_HOST=...`).
    static func parse(environment text: String) throws -> SwarmCluster {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        let hostnames = (values["BERTH_SWARM_NODES"] ?? "").split(separator: " ").map(String.init)
        var nodes: [Node] = []
        for (index, hostname) in hostnames.enumerated() {
            let n = index + 1
            guard let host = values["BERTH_SWARM_N\(n)_HOST"], let address = values["BERTH_SWARM_N\(n)_ADDR"] else {
                throw Failure(description: "scripts/swarm-cluster.sh up printed no address for node \(n): \(text)")
            }
            nodes.append(Node(number: n, hostname: hostname, dockerHost: host, address: address))
        }
        guard nodes.count == 3 else {
            throw Failure(description: "scripts/swarm-cluster.sh up described \(nodes.count) nodes, not 3: \(text)")
        }
        return SwarmCluster(nodes: nodes)
    }

    /// Runs the docker CLI against `node` (default: the leader).
    @discardableResult
    public func docker(_ arguments: [String], node: Int = 1, timeout: Duration = .seconds(120)) throws -> ProcessResult {
        let cli = ["/usr/local/bin/docker", "/usr/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "/usr/bin/docker"
        return try ProcessRunner.run(
            URL(fileURLWithPath: cli), ["-H", self.node(node).dockerHost] + arguments, timeout: timeout)
    }
}

/// An exclusive `flock` on a file, held by this process between `acquire` and `release`.
final class SessionLock: @unchecked Sendable {  // `fd` behind `lock`
    let path: String
    private let lock = NSLock()
    private var fd: Int32 = -1

    init(path: String) { self.path = path }

    /// Waits (polling every second, at most `within`) until no other process holds it.
    func acquire(within limit: Duration) throws {
        try lock.withLock {
            if fd >= 0 { return }
            let opened = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
            guard opened >= 0 else {
                throw SwarmCluster.Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))")
            }
            let deadline = ContinuousClock.now + limit
            var announced = false
            while flock(opened, LOCK_EX | LOCK_NB) != 0 {
                guard ContinuousClock.now < deadline else {
                    close(opened)
                    throw SwarmCluster.Failure(
                        description: "the 3-node Swarm stayed in use by another test run or benchmark for \(limit) (it holds \(path))")
                }
                if !announced {
                    print("waiting for another test run or benchmark to finish with the 3-node Swarm (\(path))")
                    announced = true
                }
                sleep(1)
            }
            fd = opened
        }
    }

    func release() {
        lock.withLock {
            guard fd >= 0 else { return }
            flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }
}
