import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Logging
import Synchronization

/// Desired state the test sets by hand; `fetch` returns the current one or throws.
final class ScriptedSource: DesiredStateProvider, Sendable {
    private let state = Mutex<Result<DesiredState, ScriptedError>>(.success(DesiredState()))
    private let history = Mutex<[String: DesiredState]>([:])
    func set(_ desired: DesiredState) {
        state.withLock { $0 = .success(desired) }
        if let c = desired.commit { history.withLock { $0[c] = desired } }
    }
    func desiredState(at commit: String) async throws -> DesiredState {
        guard let d = history.withLock({ $0[commit] }) else { throw ScriptedError(message: "no commit \(commit)") }
        return d
    }
    func fail(_ message: String) { state.withLock { $0 = .failure(ScriptedError(message: message)) } }
    /// Commits whose history holds no earlier commit (as after a force-push); every other
    /// commit contains every earlier one.
    private let rewritten = Mutex<Set<String>>([])
    func rewrite(_ commit: String) { _ = rewritten.withLock { $0.insert(commit) } }
    func isAncestor(_ ancestor: String, of commit: String) async throws -> Bool? {
        ancestor == commit || !rewritten.withLock { $0.contains(commit) }
    }
    func fetch() async throws -> DesiredState { try state.withLock { try $0.get() } }
}

struct ScriptedError: Error, CustomStringConvertible { var message: String; var description: String { message } }

/// A clock the test moves.
final class TestClock: Sendable {
    private let time = Mutex<Date>(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

enum LoopFx {
    static func spec(_ name: String, image: String? = nil, replicas: Int = 1) -> ServiceSpec {
        ServiceSpec(name: name, image: image ?? "shop/\(name):1.0", replicas: replicas)
    }

    static func desired(_ specs: [ServiceSpec], commit: String, errors: [Diagnostic] = []) -> DesiredState {
        DesiredState(
            services: Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) }), diagnostics: errors, commit: commit)
    }

    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func loop(
        source: ScriptedSource, runtime: FakeRuntime, journal: Journal? = nil, clock: TestClock = TestClock()
    ) -> ReconcileLoop {
        ReconcileLoop(
            project: "shop", provider: source, runtime: runtime, journal: journal, logger: quiet,
            now: { clock.now })
    }

    /// A loop on one service `web` (1 replica, commit c1), synced once: what a crash loop starts from.
    static func webLoop(clock: TestClock) async -> (source: ScriptedSource, runtime: FakeRuntime, loop: ReconcileLoop) {
        let source = ScriptedSource()
        source.set(desired([spec("web")], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = loop(source: source, runtime: runtime, clock: clock)
        await loop.syncOnce()
        return (source, runtime, loop)
    }

    /// Crashes `service`'s first instance (exit code 1), tells the loop, and lets it sync: one
    /// round of a crash loop.
    static func crash(_ service: String, in runtime: FakeRuntime, loop: ReconcileLoop) async throws {
        guard let id = await runtime.cluster.state.service(service)?.instances.first?.id else {
            throw ScriptedError(message: "\(service) has no instance to crash")
        }
        await runtime.crash(id, exitCode: 1)
        await loop.handle(RuntimeEvent(kind: .died(exitCode: 1), instanceID: id, service: service, revision: nil))
        await loop.syncOnce()
    }

    /// "service: image=state image=state …" per service, instances sorted by id.
    static func summary(_ state: ObservedState) -> [String] {
        state.normalized.services.map { s in
            "\(s.name): " + s.instances.map { "\($0.image ?? "?")=\($0.state.rawValue)" }.joined(separator: " ")
        }
    }
}
