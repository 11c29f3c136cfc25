import Foundation

/// An ordered list of steps that turns what runs into what git asks for. A plan is data:
/// `berth plan` prints it, `berth apply` and the reconcile loop execute exactly it.
///
/// JSON (DESIGN.md, add fields, never rename): `{"formatVersion": 1, "revision", "project",
/// "steps": [PlanStep], "summary": {"create", "scale", "update", "heal", "delete"},
/// "notes": [PlanNote], "prune": true|false}`.
public struct Plan: Sendable, Hashable, Codable {
    /// The commit the desired state was read from (nil for files on disk).
    public var revision: String?
    public var project: String
    /// Sorted by `PlanStep.precedes`: wave, action order, service name, first instance id.
    public var steps: [PlanStep]
    /// What the plan deliberately does not do (services that would be pruned, prune held
    /// back because the desired state has errors), sorted by service.
    public var notes: [PlanNote]
    /// Errors in the desired state: services that did not load are left as they are, and
    /// nothing is pruned. 0 for a clean desired state.
    public var desiredErrors: Int
    /// Whether the plan deletes services no longer in git (`--prune`, the default of plan,
    /// apply and watch alike, or `--no-prune`); nil for a plan made without saying (one
    /// decoded from an older document). The text's first line says `prune: on|off`.
    public var prune: Bool?

    public init(
        revision: String?, project: String, steps: [PlanStep], notes: [PlanNote] = [], desiredErrors: Int = 0
    ) {
        self.revision = revision
        self.project = project
        self.steps = steps.sorted(by: PlanStep.precedes)
        self.notes = notes.sorted { ($0.service, $0.message) < ($1.service, $1.message) }
        self.desiredErrors = desiredErrors
    }

    /// For the planner, whose steps are already in `PlanStep.precedes` order.
    init(revision: String?, project: String, sortedSteps: [PlanStep], notes: [PlanNote], desiredErrors: Int) {
        self.revision = revision
        self.project = project
        self.steps = sortedSteps
        self.notes = notes.sorted { ($0.service, $0.message) < ($1.service, $1.message) }
        self.desiredErrors = desiredErrors
    }

    public var hasChanges: Bool { !steps.isEmpty }

    /// This plan with `more` notes, in note order.
    public func adding(notes more: [PlanNote]) -> Plan {
        guard !more.isEmpty else { return self }
        var out = self
        out.notes = (notes + more).sorted { ($0.service, $0.message) < ($1.service, $1.message) }
        return out
    }
    public var summary: PlanSummary { PlanSummary(steps) }
    /// Number of waves (0 for an empty plan).
    public var waveCount: Int { (steps.map(\.wave).max() ?? -1) + 1 }

    enum CodingKeys: String, CodingKey { case formatVersion, revision, project, steps, summary, notes, desiredErrors, prune }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            revision: try c.decodeIfPresent(String.self, forKey: .revision),
            project: try c.decode(String.self, forKey: .project),
            steps: try c.decode([PlanStep].self, forKey: .steps),
            notes: try c.decodeIfPresent([PlanNote].self, forKey: .notes) ?? [],
            desiredErrors: try c.decodeIfPresent(Int.self, forKey: .desiredErrors) ?? 0)
        prune = try c.decodeIfPresent(Bool.self, forKey: .prune)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(1, forKey: .formatVersion)
        try c.encodeIfPresent(revision, forKey: .revision)
        try c.encode(project, forKey: .project)
        try c.encode(steps, forKey: .steps)
        try c.encode(summary, forKey: .summary)
        try c.encode(notes, forKey: .notes)
        if desiredErrors > 0 { try c.encode(desiredErrors, forKey: .desiredErrors) }
        try c.encodeIfPresent(prune, forKey: .prune)
    }

    /// The JSON document: pretty-printed, sorted keys, slashes unescaped, trailing newline.
    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, ints and arrays cannot fail.
        let data = try! encoder.encode(self)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

public struct PlanStep: Sendable, Hashable, Codable {
    /// Whether the step starts instances: create, heal, or a scale-up (what crash-loop
    /// backoff holds back and counts).
    public var startsInstances: Bool {
        action == .create || action == .heal || (action == .scale && (to?.replicas ?? 0) > (from?.replicas ?? 0))
    }

    /// Also the action order inside a wave: create, update, scale, heal, delete.
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
        case create, update, scale, heal, delete

        var order: Int {
            switch self {
            case .create: 0
            case .update: 1
            case .scale: 2
            case .heal: 3
            case .delete: 4
            }
        }
        public static func < (a: Action, b: Action) -> Bool { a.order < b.order }
    }

    /// One side of a change: what runs (`from`) or what will run (`to`).
    public struct Endpoint: Sendable, Hashable, Codable {
        public var image: String
        public var replicas: Int
        public var revision: String
        /// Environment, secrets masked (`Secrets.mask`); only on `create`, where all of it
        /// is new. Updates cannot show an env diff: observed state carries no env.
        public var env: [String: String]?

        public init(image: String, replicas: Int, revision: String, env: [String: String]? = nil) {
            self.image = image
            self.replicas = replicas
            self.revision = revision
            self.env = env
        }
    }

    /// How an update replaces instances, resolved against the new replica count.
    public struct Strategy: Sendable, Hashable, Codable {
        public enum Kind: String, Sendable, Hashable, Codable { case rolling, recreate }
        public var type: Kind
        /// Extra new instances allowed above the replica count (rolling only).
        public var maxSurge: Int?
        /// Instances allowed below the replica count (rolling only).
        public var maxUnavailable: Int?

        public init(type: Kind, maxSurge: Int? = nil, maxUnavailable: Int? = nil) {
            self.type = type
            self.maxSurge = maxSurge
            self.maxUnavailable = maxUnavailable
        }

        public var description: String {
            switch type {
            case .recreate: "recreate"
            case .rolling: "rolling, maxSurge \(maxSurge ?? 0), maxUnavailable \(maxUnavailable ?? 0)"
            }
        }
    }

    public var action: Action
    public var service: String
    /// Steps of one wave do not depend on each other; wave n+1 starts when wave n is done.
    public var wave: Int
    /// Why, for people: "new service: nothing runs yet", "image a → b; replicas 2 → 3", …
    public var reason: String
    public var from: Endpoint?
    public var to: Endpoint?
    /// `update` only.
    public var strategy: Strategy?
    /// The instances the step removes or replaces, sorted: failing ones for `heal`, the
    /// ones to stop for a scale-down, old-revision ones for `update`, all for `delete`.
    public var instances: [String]?

    public init(
        action: Action, service: String, wave: Int, reason: String, from: Endpoint? = nil,
        to: Endpoint? = nil, strategy: Strategy? = nil, instances: [String]? = nil
    ) {
        self.action = action
        self.service = service
        self.wave = wave
        self.reason = reason
        self.from = from
        self.to = to
        self.strategy = strategy
        self.instances = instances.map { $0.sorted() }
    }

    /// The total order of steps (STYLE #7): wave, action order, service name, first instance id.
    public static func precedes(_ a: PlanStep, _ b: PlanStep) -> Bool { a.sortKey < b.sortKey }

    /// What `precedes` compares, in order.
    var sortKey: (wave: Int, action: Int, service: String, firstInstance: String) {
        (wave, action.order, service, instances?.first ?? "")
    }
}

/// Something the plan leaves undone on purpose, with a sentence saying what and why.
public struct PlanNote: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A service no longer in git that `--prune` would delete.
        case wouldPrune
        /// A service no longer in git kept because the desired state has errors.
        case pruneBlocked
        /// A suspended service (or one of a suspended project) whose steps no sync runs.
        case suspended
        /// A service pinned by `berth rollback`: planned at the pinned revision, not git's.
        case pinned
        /// A service whose replica count `berth scale` overrides.
        case scaled
        /// A pin or override that a newer commit ends (`berth plan`: would end).
        case released
        /// A service whose steps wait (a held-back rollout, crash-loop backoff).
        case deferred
    }
    public var kind: Kind
    public var service: String
    public var instances: [String]
    public var message: String

    public init(kind: Kind, service: String, instances: [String], message: String) {
        self.kind = kind
        self.service = service
        self.instances = instances.sorted()
        self.message = message
    }
}

public struct PlanSummary: Sendable, Hashable, Codable {
    public var create = 0, scale = 0, update = 0, heal = 0, delete = 0

    public init(_ steps: [PlanStep]) {
        for s in steps {
            switch s.action {
            case .create: create += 1
            case .scale: scale += 1
            case .update: update += 1
            case .heal: heal += 1
            case .delete: delete += 1
            }
        }
    }

    /// `Plan: 1 to create, 2 to update, 0 to scale, 1 to heal, 0 to delete.`
    public var sentence: String {
        "Plan: \(create) to create, \(update) to update, \(scale) to scale, \(heal) to heal, \(delete) to delete."
    }
}
