import BerthCore
import BerthEngine
import BerthNet
import BerthTestSupport
import Foundation
import Logging
import NIOHTTP1

/// `berth-bench ui`: the web UI's overview of 1,000 services (3 replicas each; a few
/// degraded, held back, autoscaled), next to the JSON status document of the same state,
/// in the same run:
/// - rendering alone: `UISnapshot.overview` + `OverviewPage.render` vs encoding the same
///   `StatusReport` as `GET /api/v1/status` does (sorted keys, pretty);
/// - over HTTP from a real `berth watch` stack (loop over the deterministic runtime, the
///   API server, the web UI): `GET /` vs `GET /api/v1/status`, median and p95;
/// - the page's size, with realistic names (14–23 characters, images `registry.local/NAME:1.2.3`)
///   and with 60-character names.
/// Target: the overview well under 300 ms on the server, the page under ~200 KB.
///
/// `berth-bench ui --serve [--long]` serves that stack (60-character names with `--long`)
/// on a free loopback port, prints `serving http://127.0.0.1:PORT/`, and stops when its
/// standard input closes: the browser tests take their 1,000-service screenshots from it.
let uiBenchmark = Benchmark(name: "ui", summary: "web UI overview of 1,000 services vs the JSON status of the same state", run: UIBench.run)

enum UIBench {
    static let services = 1000
    static let teams = ["payments", "search", "checkout", "catalog", "identity", "ledger", "notify", "media"]
    static let kinds = ["api", "worker", "gateway", "indexer", "scheduler", "cache"]

    static func name(_ i: Int, long: Bool) -> String {
        let base = "\(teams[i % teams.count])-\(kinds[(i / teams.count) % kinds.count])-\(String(format: "%04d", i))"
        guard long else { return base }
        return (base + "-" + String(repeating: "x", count: 60)).prefix(60).description
    }

    /// The desired state, what runs (3 replicas each; every 50th service has an exited
    /// instance), and the loop's view of it.
    static func world(long: Bool) -> (desired: DesiredState, observed: ObservedState) {
        // Started three days ago, whenever the bench runs (a fixed date would read "in 38 d").
        let started = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3 * 86400))
        var specs: [String: ServiceSpec] = [:]
        var observed: [ObservedService] = []
        for i in 0..<services {
            let n = name(i, long: long)
            var spec = ServiceSpec(
                name: n, image: "registry.local/\(n):1.\(i % 9).\(i % 4)", replicas: 3,
                env: ["PORT": "8080", "DB_PASSWORD": "pw-\(i)"], ports: [PortSpec(containerPort: 8080)])
            if i % 10 == 0 { spec.autoscale = Autoscale(min: 2, max: 10, targetRequestsPerSecond: 50) }
            specs[n] = spec
            let revision = spec.revision
            var instances = (0..<3).map { r in
                Instance(
                    id: String(format: "%08x%04x", i, r) + "deadbeefcafe", service: n, revision: revision, commit: "c0ffee",
                    image: spec.image, state: .running, created: started)
            }
            if i % 50 == 7 {
                instances[0].state = .exited
                instances[0].exitCode = 137
                instances[0].restartCount = 2
            }
            observed.append(ObservedService(name: n, instances: instances))
        }
        return (DesiredState(services: specs, commit: "0123456789abcdef0123456789abcdef01234567"), ObservedState(project: "bench", services: observed))
    }

    static func inputs(long: Bool, now: Date) -> UISnapshot.Inputs {
        let (desired, observed) = world(long: long)
        let report = StatusReport(desired: desired, observed: observed)
        let state = LoopState(
            report: report, desiredCommit: desired.commit, newestCommit: desired.commit, lastAppliedCommit: desired.commit,
            lastSync: .init(trigger: "commit", result: .succeeded, commit: desired.commit, started: now.addingTimeInterval(-90), ended: now.addingTimeInterval(-60), steps: 20, errors: []),
            heldBack: [.init(service: name(3, long: long), revision: "0a1b2c3d4e", commit: desired.commit, message: "not healthy before the deadline", outcome: .rolledBack)])
        var rates: [String: Double] = [:]
        var steps: [String: LastStep] = [:]
        for i in 0..<services {
            let n = name(i, long: long)
            if i % 10 == 0 { rates[n] = Double(i % 97) * 1.7 }
            steps[n] = LastStep(action: i % 3 == 0 ? "update" : "create", outcome: .succeeded, ended: Timestamp.string(now.addingTimeInterval(-2 * 86400)))
        }
        return UISnapshot.Inputs(
            status: state, specs: desired.services, rates: rates, lastSteps: steps,
            appliedInfo: CommitInfo(id: desired.commit!, subject: "payments: 1.4.2 everywhere", author: "Ada Lovelace", date: now),
            appliedAt: now.addingTimeInterval(-60), nextSyncDue: now.addingTimeInterval(25))
    }

    static func run(_ args: [String]) throws {
        if args.contains("--serve") { return try serve(long: args.contains("--long")) }
        let now = Date()
        print("berth-bench ui: the overview of \(services) services (3 replicas each) vs the JSON status of the same state")
        print("")
        print("rendering alone (median of 30, after one warm-up):")
        for long in [false, true] {
            let inputs = inputs(long: long, now: now)
            let context = PageContext(project: "bench", path: "/", access: .loggedIn(csrf: String(repeating: "a", count: 128)), now: now)
            var page = ""
            let html = Harness.measure(passes: 30) {
                page = OverviewPage.render(UISnapshot.overview(inputs, now: now), context: context).text
            }
            // What goes out to a browser (it sends Accept-Encoding: gzip): the page compressed.
            var wire = 0
            let gzipTime = Harness.measure(passes: 30) {
                let response = APIResponse(status: 200, contentType: "text/html; charset=utf-8", body: page)
                wire = WebUI.encoded(response, for: APIRequest(method: "GET", uri: "/", headers: [("Accept-Encoding", "gzip")])).body.count
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            var json = 0
            let jsonTime = Harness.measure(passes: 30) {
                json = (try? encoder.encode(inputs.status.report))?.count ?? 0
            }
            let label = long ? "60-character names" : "names of 14–23 characters, images of 35–44"
            print("  \(label):")
            print("    overview HTML  \(Harness.pad(Harness.fmt(html * 1000, 2), 7)) ms  \(Harness.pad(kb(page.utf8.count), 9))")
            print("    + gzip         \(Harness.pad(Harness.fmt(gzipTime * 1000, 2), 7)) ms  \(Harness.pad(kb(wire), 9))   (what a browser receives)")
            print("    JSON status    \(Harness.pad(Harness.fmt(jsonTime * 1000, 2), 7)) ms  \(Harness.pad(kb(json), 9))   (HTML/JSON: time \(Harness.fmt(html / jsonTime, 2))x, size \(Harness.fmt(Double(page.utf8.count) / Double(json), 2))x)")
        }
        print("")
        try overHTTP()
    }

    static func kb(_ bytes: Int) -> String { Harness.fmt(Double(bytes) / 1000, 1) + " KB" }

    /// A real watch stack on loopback: the loop over the deterministic runtime (synced once:
    /// 3,000 instances), the API server with the web UI; `GET /` and `GET /api/v1/status`,
    /// 40 each, alternating.
    static func overHTTP() throws {
        let result: Result<String, any Error> = blocking {
            let (desired, _) = world(long: false)
            let runtime = FakeRuntime(state: .none(project: "bench"))
            let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
            let loop = ReconcileLoop(project: "bench", provider: FixedDesiredState(desired: desired), runtime: runtime, journal: nil, logger: quiet)
            await loop.syncOnce()
            let ui = WebUI(loop: loop, journal: nil, token: "bench", git: nil, traffic: nil)
            let server = try await APIServer.start(host: "127.0.0.1", port: 0, router: APIRouter(loop: loop, journal: nil, token: "bench", ui: ui))
            defer { Task { await server.close() } }
            let client = HTTPClient(.tcp(host: "127.0.0.1", port: server.port))
            var page: [Double] = [], gzipped: [Double] = [], json: [Double] = []
            var pageBytes = 0, gzipBytes = 0, jsonBytes = 0
            let clock = ContinuousClock()
            for round in 0..<41 {
                let t0 = clock.now
                let p = try await client.send(.GET, "/", timeout: .seconds(10))
                let t1 = clock.now
                let j = try await client.send(.GET, "/api/v1/status", timeout: .seconds(10))
                let t2 = clock.now
                let g = try await client.send(.GET, "/", headers: [("Accept-Encoding", "gzip")], timeout: .seconds(10))
                let t3 = clock.now
                guard p.status == 200, j.status == 200, g.status == 200 else {
                    throw ApplyBench.BenchError("GET / answered \(p.status) (gzip: \(g.status)), /api/v1/status \(j.status)")
                }
                guard g.body.starts(with: [0x1F, 0x8B]) else { throw ApplyBench.BenchError("GET / with Accept-Encoding: gzip was not compressed") }
                if round == 0 { continue }  // warm-up
                page.append(seconds(t1 - t0))
                json.append(seconds(t2 - t1))
                gzipped.append(seconds(t3 - t2))
                pageBytes = p.body.count
                gzipBytes = g.body.count
                jsonBytes = j.body.count
            }
            page.sort()
            gzipped.sort()
            json.sort()
            func row(_ what: String, _ v: [Double], _ bytes: Int) -> String {
                "    \(what)  median \(Harness.pad(Harness.fmt(v[v.count / 2] * 1000, 1), 6)) ms  p95 \(Harness.pad(Harness.fmt(v[v.count * 95 / 100] * 1000, 1), 6)) ms  \(Harness.pad(kb(bytes), 9))"
            }
            return """
                over HTTP from a watch stack (loop over the deterministic runtime, 3,000 instances; 40 requests each, alternating):
                \(row("GET /              ", page, pageBytes))
                \(row("GET / (gzip)       ", gzipped, gzipBytes))
                \(row("GET /api/v1/status ", json, jsonBytes))
                    GET / vs the JSON status: \(Harness.fmt(page[page.count / 2] / json[json.count / 2], 2))x the time, \(Harness.fmt(Double(pageBytes) / Double(jsonBytes), 2))x the bytes
                """
        }
        print(try result.get())
    }

    /// The watch stack of `overHTTP` (with a few degraded and held-back services, autoscaled
    /// ones with a rate), served until standard input closes.
    static func serve(long: Bool) throws {
        let result: Result<Int, any Error> = blocking {
            var (desired, running) = world(long: long)
            // Every 50th service never becomes healthy (Degraded), two cannot start (Missing).
            // The rest already runs, so the one sync has little to do: creating 3,000
            // instances through the executor takes a minute in a debug build on a busy machine.
            let names = desired.services.keys.sorted()
            var failures: [FakeFailure] = []
            for (i, n) in names.enumerated() where i % 50 == 7 { failures.append(.neverHealthy(service: n)) }
            let missing: Set<String> = [names[11], names[12]]
            failures += missing.sorted().map { .createFails(service: $0) }
            let degraded = Set(failures.compactMap { f -> String? in if case .neverHealthy(let n) = f { n } else { nil } })
            running.services = running.services.filter { !missing.contains($0.name) }.map { service in
                var service = service
                if degraded.contains(service.name) {
                    service.instances = service.instances.map { var i = $0; i.state = .unhealthy; return i }
                }
                return service
            }
            desired = DesiredState(services: desired.services, commit: desired.commit)
            let runtime = FakeRuntime(state: running, failures: failures)
            let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
            let loop = ReconcileLoop(project: "bench", provider: FixedDesiredState(desired: desired), runtime: runtime, journal: nil, logger: quiet)
            await loop.syncOnce()
            let observed = try await runtime.observe(project: "bench")
            let ui = WebUI(loop: loop, journal: nil, token: "bench", git: nil, traffic: nil)
            let now = Date()
            var values: [String: (rate: Double?, replicas: Int)] = [:]
            for (i, service) in observed.services.enumerated() {
                values[service.name] = (i % 10 == 0 ? Double(i % 97) * 1.7 : nil, 3)
            }
            for k in stride(from: 720, through: 0, by: -1) {
                ui.series.record(at: now.addingTimeInterval(Double(-5 * k)), values, hasTraffic: true)
            }
            let server = try await APIServer.start(host: "127.0.0.1", port: 0, router: APIRouter(loop: loop, journal: nil, token: "bench", ui: ui))
            _ = Unmanaged.passRetained(ServerHolder(server))  // lives until the process ends
            return server.port
        }
        let port = try result.get()
        FileHandle.standardOutput.write(Data("serving http://127.0.0.1:\(port)/\n".utf8))
        while readLine() != nil {}
    }

    final class ServerHolder: Sendable {
        let server: APIServer
        init(_ server: APIServer) { self.server = server }
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// Runs `body` on the cooperative pool and waits for it (the harness is synchronous).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.set(.success(try await body())) } catch { box.set(.failure(error)) }
            done.signal()
        }
        done.wait()
        return box.get()!
    }
}

/// The same desired state on every fetch.
struct FixedDesiredState: DesiredStateProvider {
    let desired: DesiredState
    func fetch() async throws -> DesiredState { desired }
}

/// One result handed from a task to the waiting thread (the semaphore orders the accesses).
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private var value: Result<T, any Error>?
    func set(_ v: Result<T, any Error>) { value = v }
    func get() -> Result<T, any Error>? { value }
}
