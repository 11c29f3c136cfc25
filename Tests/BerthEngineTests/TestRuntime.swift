import BerthCore
import BerthEngine

/// A scripted in-memory runtime that records every moment: each start, health verdict and
/// removal, and after each change how many instances of the service exist and how many
/// serve (are healthy). Health takes `delay`, so steps of one wave really overlap.
actor TestRuntime: ContainerRuntime {
    struct Entry {
        var instance: Instance
        var spec: ServiceSpec
    }
    /// A snapshot of one service after a change.
    struct Sample: Equatable {
        var total: Int
        var serving: Int
    }

    private(set) var entries: [String: Entry] = [:]
    private(set) var log: [String] = []
    private(set) var samples: [String: [Sample]] = [:]
    private(set) var maxConcurrentWaits = 0
    private var waiting = 0
    private var counter = 0
    private var startsByImage: [String: Int] = [:]

    /// Images whose instances never become healthy.
    var neverHealthy: Set<String> = []
    /// Image → the starts (1-based, counted per image) that never become healthy.
    var failingStarts: [String: Set<Int>] = [:]
    /// Images that cannot be started at all.
    var startFails: Set<String> = []
    /// Images whose health waits hang until `open` (or their deadline).
    private(set) var gated: Set<String> = []
    let delay: Duration

    init(delay: Duration = .milliseconds(3)) { self.delay = delay }

    func script(neverHealthy: Set<String> = [], failingStarts: [String: Set<Int>] = [:], startFails: Set<String> = []) {
        self.neverHealthy = neverHealthy
        self.failingStarts = failingStarts
        self.startFails = startFails
    }

    /// Puts `count` healthy instances of `spec` in place, as a previous apply would have.
    func seed(_ spec: ServiceSpec, count: Int, state: Instance.State = .running, commit: String? = nil) {
        for _ in 0..<count {
            let instance = make(spec, state: state, commit: commit)
            entries[instance.id] = Entry(instance: instance, spec: spec)
        }
    }

    func setState(_ id: String, _ state: Instance.State, exitCode: Int? = nil) {
        entries[id]?.instance.state = state
        entries[id]?.instance.exitCode = exitCode
    }

    func gate(_ image: String) { gated.insert(image) }
    func open(_ image: String) { gated.remove(image) }

    /// Adds a line to the log (for a router that shares it).
    func note(_ line: String) { log.append(line) }

    func clearLog() {
        log = []
        samples = [:]
    }

    private func make(_ spec: ServiceSpec, state: Instance.State, commit: String? = nil) -> Instance {
        counter += 1
        let digits = String(counter)
        let n = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        return Instance(
            id: "\(spec.name)-\(n)", service: spec.name, revision: spec.revision, commit: commit, image: spec.image,
            state: state, created: "2026-01-01T00:00:00.\(n)Z")
    }

    private func sample(_ service: String) {
        let mine = entries.values.filter { $0.instance.service == service }
        samples[service, default: []].append(
            Sample(total: mine.count, serving: mine.filter { $0.instance.state == .running }.count))
    }

    func instances(of service: String) -> [Instance] {
        entries.values.map(\.instance).filter { $0.service == service }.sorted { $0.id < $1.id }
    }

    // MARK: - ContainerRuntime

    func observe(project: String) async throws -> ObservedState {
        var byService: [String: [Instance]] = [:]
        for e in entries.values { byService[e.instance.service, default: []].append(e.instance) }
        return ObservedState(
            project: project,
            services: byService.keys.sorted().map { ObservedService(name: $0, instances: byService[$0]!) })
    }

    func startInstance(_ request: InstanceRequest) async throws -> Instance {
        let spec = request.spec
        if startFails.contains(spec.image) {
            log.append("start \(spec.name) \(spec.image) failed")
            throw TestRuntimeError(message: "No such image: \(spec.image)")
        }
        startsByImage[spec.image, default: 0] += 1
        let instance = make(spec, state: .starting, commit: request.commit)
        startNumbers[instance.id] = startsByImage[spec.image]
        entries[instance.id] = Entry(instance: instance, spec: spec)
        log.append("start \(instance.id) \(spec.image)")
        sample(spec.name)
        return instance
    }

    func waitHealthy(_ instance: Instance, check: HealthCheck?, deadline: ContinuousClock.Instant) async throws
        -> HealthOutcome
    {
        waiting += 1
        maxConcurrentWaits = max(maxConcurrentWaits, waiting)
        try? await Task.sleep(for: delay)
        while let image = entries[instance.id]?.spec.image, gated.contains(image), ContinuousClock.now < deadline,
              entries[instance.id]?.instance.state != .exited
        {
            try? await Task.sleep(for: .milliseconds(5))
        }
        waiting -= 1
        guard let entry = entries[instance.id] else { return .exited(code: nil) }
        // Killed (`setState(_, .exited)`) while it waited: as a real runtime sees it.
        if entry.instance.state == .exited { return .exited(code: entry.instance.exitCode) }
        let nth = startNumber(instance)
        if neverHealthy.contains(entry.spec.image) || failingStarts[entry.spec.image]?.contains(nth) == true {
            entries[instance.id]?.instance.state = .unhealthy
            log.append("unhealthy \(instance.id)")
            sample(entry.spec.name)
            return .timedOut(lastFailure: "HTTP 404 from /healthz")
        }
        entries[instance.id]?.instance.state = .running
        log.append("healthy \(instance.id)")
        sample(entry.spec.name)
        return .healthy
    }

    /// Which start of its image each instance was (1-based, in start order).
    private var startNumbers: [String: Int] = [:]
    private func startNumber(_ instance: Instance) -> Int { startNumbers[instance.id] ?? 0 }

    func removeInstance(id: String, grace: Millis) async throws {
        guard let entry = entries.removeValue(forKey: id) else {
            throw TestRuntimeError(message: "no such instance: \(id)")
        }
        log.append("remove \(id)")
        sample(entry.spec.name)
    }

    func recordedSpec(instanceID: String) async throws -> ServiceSpec? { entries[instanceID]?.spec }
}

struct TestRuntimeError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
