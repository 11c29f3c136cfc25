public import BerthCore

/// Who may act on a service at a moment, inside one process: the executor holds a service
/// while it runs that service's steps, so a heal and a sync's step never act on it at once
/// (steps of different services still run side by side).
///
/// Two kinds of holder:
/// - **exclusive**: any step (create, scale, update, delete, a heal of an unhealthy
///   instance): alone on the service.
/// - **replacing** exited instances: the heals that follow deaths. They share the service with
///   each other — each replaces the dead instances no one else is replacing — because a
///   replacement only ever takes the place of one dead instance: replicas killed together
///   are replaced together, not one after the other.
///
/// Waiters are served in the order they came (a sync's step is not starved by heals).
/// Instances being replaced, or replaced in the last 30 s, are reported with their
/// replacements (`retiredInstances`), so that a plan made from an observation that still
/// lists them counts each once, as its replacement (`ObservedState.retiring`).
///
/// Each service has a generation, bumped whenever a holder changed it (`Generation`). A plan
/// made from an observation at generation g is stale for a service that moved on: the
/// executor then plans that service afresh before acting (`PlanBasis`).
public actor ServiceLocks {
    /// How often a service was changed: by anyone, and by exclusive holders alone.
    public struct Generation: Sendable, Hashable {
        public var changes: UInt64 = 0
        public var exclusiveChanges: UInt64 = 0
        public init() {}
    }

    public enum Mode: Sendable, Hashable {
        case exclusive
        /// Replaces the exited instances with these ids (and does nothing else).
        case replacing(Set<String>)
    }

    private struct Service {
        var exclusive = false
        var replacers = 0
        var queue: [(replacing: Bool, resume: CheckedContinuation<Void, Never>)] = []
        var generation = Generation()
    }

    private var services: [String: Service] = [:]
    /// Instance id → its service, while a holder replaces it.
    private var replacing: [String: String] = [:]
    /// Instance id → its replacement and when that started.
    private var replaced: [String: (by: String, at: ContinuousClock.Instant)] = [:]
    public let retiredFor: Duration
    /// Instances this process stops, and since when.
    private var removing: [String: ContinuousClock.Instant] = [:]

    public init(retiredFor: Duration = .seconds(30)) { self.retiredFor = retiredFor }

    /// Waits until `mode` may act on `service`, then holds it. Returns, for `.replacing`,
    /// the ids this holder replaces (those no one else is replacing or has replaced).
    public func acquire(_ service: String, _ mode: Mode) async -> Set<String> {
        let isReplacing = mode != .exclusive
        let state = services[service] ?? Service()
        if state.queue.isEmpty && Self.admits(state, replacing: isReplacing) {
            services[service] = Self.admitted(state, replacing: isReplacing)
        } else {
            await withCheckedContinuation { resume in
                services[service, default: Service()].queue.append((isReplacing, resume))
            }
        }
        guard case .replacing(let ids) = mode else { return [] }
        let retired = retiredInstances()
        let mine = ids.filter { retired[$0] == nil }
        for id in mine { replacing[id] = service }
        return mine
    }

    /// Lets the next waiters in. `claimed`: the ids `acquire` gave a replacing holder;
    /// `changed`: the holder started or stopped instances. Returns the generation it leaves.
    @discardableResult
    public func release(_ service: String, _ mode: Mode, claimed: Set<String> = [], changed: Bool) -> Generation {
        var state = services[service] ?? Service()
        if mode == .exclusive {
            state.exclusive = false
            if changed { state.generation.exclusiveChanges &+= 1 }
        } else {
            state.replacers -= 1
            for id in claimed { replacing[id] = nil }
        }
        if changed { state.generation.changes &+= 1 }
        // Wake in order: every replacing waiter up to the first exclusive one that cannot enter.
        while let next = state.queue.first, Self.admits(state, replacing: next.replacing) {
            state.queue.removeFirst()
            state = Self.admitted(state, replacing: next.replacing)
            next.resume.resume()
        }
        services[service] = state
        return state.generation
    }

    /// This process stops and removes the instance `id`: its death is no news.
    public func noteRemoving(_ id: String) {
        let now = ContinuousClock.now
        removing = removing.filter { now - $0.value < .seconds(120) }
        removing[id] = now
    }

    /// Whether this process stopped `id` in the last two minutes.
    public func removes(_ id: String) -> Bool { removing[id] != nil }

    /// `replacement` has started in the place of the exited instance `id`.
    public func noteReplaced(_ id: String, by replacement: String) { replaced[id] = (replacement, .now) }

    public func generation(_ service: String) -> Generation { services[service]?.generation ?? Generation() }

    /// Every service's generation, to take before an observation.
    public func snapshot() -> [String: Generation] { services.mapValues(\.generation) }

    /// Instances being replaced (replacement not known yet: nil), or replaced in the last
    /// `retiredFor`, with their replacements.
    public func retiredInstances() -> [String: String?] {
        let now = ContinuousClock.now
        replaced = replaced.filter { now - $0.value.at < retiredFor }
        var out: [String: String?] = replaced.mapValues { $0.by }
        for id in replacing.keys where out[id] == nil { out[id] = .some(nil) }
        return out
    }

    private static func admits(_ state: Service, replacing: Bool) -> Bool {
        replacing ? !state.exclusive : !state.exclusive && state.replacers == 0
    }

    private static func admitted(_ state: Service, replacing: Bool) -> Service {
        var out = state
        if replacing { out.replacers += 1 } else { out.exclusive = true }
        return out
    }
}

/// What a plan was made from, so that a step that had to wait for its service re-plans
/// it when another apply of this process changed it meanwhile (a heal that ran while a sync
/// was planning, or the other way round).
public struct PlanBasis: Sendable {
    /// The services' generations when the observation behind the plan began.
    public var generations: [String: ServiceLocks.Generation]
    /// A fresh plan for one service: observe again, plan, keep that service's steps (with
    /// the instances it now has). Nil: the service's planned steps stand.
    public var replan: @Sendable (_ service: String) async -> Replanned?

    public init(
        generations: [String: ServiceLocks.Generation], replan: @escaping @Sendable (_ service: String) async -> Replanned?
    ) {
        self.generations = generations
        self.replan = replan
    }

    public struct Replanned: Sendable {
        public var steps: [PlanStep]
        /// The service's instances in the observation the steps were planned from.
        public var instances: [Instance]
        public init(steps: [PlanStep], instances: [Instance]) {
            self.steps = steps
            self.instances = instances
        }
    }
}

extension ObservedState {
    /// This state with each instance this process replaces (`retired`: id → replacement)
    /// counted once, as its replacement: left out where the replacement is listed, else
    /// standing in for it as `starting` (which nothing heals or removes first).
    public func retiring(_ retired: [String: String?]) -> ObservedState {
        guard !retired.isEmpty else { return self }
        var out = self
        let listed = Set(out.services.flatMap { $0.instances.map(\.id) })
        for s in out.services.indices {
            out.services[s].instances.removeAll { i in
                guard let replacement = retired[i.id], let id = replacement else { return false }
                return listed.contains(id)
            }
            for i in out.services[s].instances.indices where retired[out.services[s].instances[i].id] != nil {
                out.services[s].instances[i].state = .starting
                out.services[s].instances[i].exitCode = nil
            }
        }
        out.services.removeAll { $0.instances.isEmpty }
        return out
    }
}
