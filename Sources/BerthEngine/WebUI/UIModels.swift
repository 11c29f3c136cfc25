public import BerthCore
public import Foundation

// The values the web UI's pages are drawn from. Renderers are pure functions of these
// (values in, HTML out), so each page is tested without a loop, a runtime or git.
// `UISnapshot.swift` builds them from what `berth watch` knows.

/// Who is looking, and what they may do: decides the header's buttons.
public enum UIAccess: Sendable, Hashable {
    /// No BERTH_API_TOKEN: reading only; the buttons say how to enable writes.
    case writesDisabled
    /// A token is configured and this browser has no session: a "Log in" link.
    case loggedOut
    /// A session: forms carry its CSRF token.
    case loggedIn(csrf: String)
}

/// What every page shares: the project, the page's own path (for "back" links), who is
/// looking, and a notice after a redirect.
public struct PageContext: Sendable, Hashable {
    public var project: String
    /// Path and query of the page (a local path, starting with `/`).
    public var path: String
    public var access: UIAccess
    public var notice: Notice?
    public var now: Date
    /// The live-update version the page shows (`app.js` compares it with the server's).
    public var version: Int

    public init(project: String, path: String, access: UIAccess, notice: Notice? = nil, now: Date, version: Int = 0) {
        self.project = project
        self.path = path
        self.access = access
        self.notice = notice
        self.now = now
        self.version = version
    }

    /// A fixed set of messages a redirect may ask for (`?notice=`): never text from a URL.
    public enum Notice: String, Sendable, Hashable, CaseIterable {
        case syncRequested = "sync-requested"
        case loggedIn = "logged-in"
        case loggedOut = "logged-out"

        public var sentence: String {
            switch self {
            case .syncRequested: "Sync requested: berth watch is fetching and syncing now."
            case .loggedIn: "Logged in: Sync now is enabled in this browser."
            case .loggedOut: "Logged out."
            }
        }
    }
}

/// The commit applied and the commits around it, for the overview's summary.
public struct CommitInfo: Sendable, Hashable {
    public var id: String
    /// The first line of the message.
    public var subject: String
    public var author: String
    public var date: Date?

    public init(id: String, subject: String, author: String, date: Date?) {
        self.id = id
        self.subject = subject
        self.author = author
        self.date = date
    }
}

/// The state of the loop, summarised at the top of the overview.
public struct LoopSummary: Sendable, Hashable {
    public var appliedCommit: String?
    /// Message, author and date of the applied commit, when git could be read.
    public var appliedCommitInfo: CommitInfo?
    /// When a sync from the applied commit first succeeded (from the journal).
    public var appliedAt: Date?
    /// The branch head as of the last fetch.
    public var headCommit: String?
    /// The commit whose desired state is in force (the newest valid one).
    public var desiredCommit: String?
    public var lastSync: LastSync?
    /// When the next periodic sync is due (nil when the loop does not say).
    public var nextSyncDue: Date?

    public struct LastSync: Sendable, Hashable {
        public var trigger: String
        public var result: SyncResult
        public var ended: Date?
        public var durationMs: Int?
        public var steps: Int

        public init(trigger: String, result: SyncResult, ended: Date?, durationMs: Int?, steps: Int) {
            self.trigger = trigger
            self.result = result
            self.ended = ended
            self.durationMs = durationMs
            self.steps = steps
        }
    }

    public init(
        appliedCommit: String? = nil, appliedCommitInfo: CommitInfo? = nil, appliedAt: Date? = nil, headCommit: String? = nil,
        desiredCommit: String? = nil, lastSync: LastSync? = nil, nextSyncDue: Date? = nil
    ) {
        self.appliedCommit = appliedCommit
        self.appliedCommitInfo = appliedCommitInfo
        self.appliedAt = appliedAt
        self.headCommit = headCommit
        self.desiredCommit = desiredCommit
        self.lastSync = lastSync
        self.nextSyncDue = nextSyncDue
    }
}

/// One thing an operator should look at, for the overview's banner.
public struct Attention: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The newest commit's manifests are invalid: held back, the last good state runs.
        case invalidCommit
        /// A rollout failed and was rolled back (or paused): that revision is held back.
        case heldBack
        /// A service that keeps crashing waits out its backoff before the next restart.
        case backoff
        /// `berth suspend` of the whole project: watch changes nothing.
        case suspended
        /// A node of the cluster is down (the Swarm runtime reports it).
        case nodeDown
        /// Git, the runtime or the planner failed.
        case error
        /// Services that are Degraded or Missing.
        case unhealthy
        /// The last sync failed.
        case syncFailed
    }

    public var kind: Kind
    /// The service it is about, named (linked) before the title: `booking: rollout of …`.
    public var subject: String?
    /// One sentence.
    public var title: String
    /// Lines under it (errors, reasons), shown as text.
    public var details: [String]
    /// The services it concerns (linked), sorted.
    public var services: [String]
    /// A moment worth showing (the next retry of a backoff).
    public var time: Date?

    public init(
        kind: Kind, subject: String? = nil, title: String, details: [String] = [], services: [String] = [], time: Date? = nil
    ) {
        self.kind = kind
        self.subject = subject
        self.title = title
        self.details = details
        self.services = services
        self.time = time
    }

    /// Red for what stops deployments or serving, amber for the rest.
    public var isSevere: Bool {
        switch kind {
        case .invalidCommit, .heldBack, .error, .syncFailed, .nodeDown: true
        case .backoff, .unhealthy, .suspended: false
        }
    }
}

/// An autoscaled service's range and its current request rate.
public struct AutoscaleInfo: Sendable, Hashable {
    public var min: Int
    public var max: Int
    public var targetRequestsPerSecond: Int?
    /// Requests per second now (nil when no balancer reports it).
    public var rate: Double?

    public init(min: Int, max: Int, targetRequestsPerSecond: Int?, rate: Double?) {
        self.min = min
        self.max = max
        self.targetRequestsPerSecond = targetRequestsPerSecond
        self.rate = rate
    }
}

/// The newest thing that happened to a service, from the journal (or its newest instance).
public struct LastChange: Sendable, Hashable {
    /// `update`, `heal`, `scale`, `create`, … or `started` for an instance's creation time.
    public var what: String
    public var outcome: JournalOutcome?
    public var time: Date

    public init(what: String, outcome: JournalOutcome?, time: Date) {
        self.what = what
        self.outcome = outcome
        self.time = time
    }
}

/// Why a service runs other than git says, as a badge: the loop holds it back, or an
/// operator's control (`berth rollback`, `berth scale`, `berth suspend`) is in force.
public enum RowMark: String, Sendable, Hashable, CaseIterable {
    case heldBack = "held back"
    case invalidCommit = "invalid commit"
    case pinned
    case scaled
    case suspended
}

/// One row of the overview.
public struct ServiceRow: Sendable, Hashable {
    public var name: String
    public var image: String
    public var revision: String
    public var readyReplicas: Int
    public var desiredReplicas: Int
    public var autoscale: AutoscaleInfo?
    public var sync: SyncStatus
    public var health: HealthStatus
    /// The health sentence ("2 of 3 replicas ready; booking-1 exited with code 1").
    public var message: String
    /// Why what runs differs from git, as `berth status` ends its MESSAGE with them
    /// (`StatusReport.Service.notes`: held back, pinned, scaled, suspended).
    public var notes: [String]
    public var lastChange: LastChange?
    /// Held back, pinned, scaled, suspended: a badge each, in this order.
    public var marks: [RowMark]
    /// Crash-looping: no restart before this moment.
    public var backoffUntil: Date?

    /// Held back after a rolled-back rollout.
    public var heldBack: Bool {
        get { marks.contains(.heldBack) }
        set {
            marks.removeAll { $0 == .heldBack }
            if newValue { marks.insert(.heldBack, at: 0) }
        }
    }

    /// `berth status`'s MESSAGE: the health sentence, then the notes.
    public var statusMessage: String { ([message] + notes).filter { !$0.isEmpty }.joined(separator: "; ") }

    public init(
        name: String, image: String, revision: String, readyReplicas: Int, desiredReplicas: Int,
        autoscale: AutoscaleInfo? = nil, sync: SyncStatus, health: HealthStatus, message: String, notes: [String] = [],
        lastChange: LastChange? = nil, heldBack: Bool = false, marks: [RowMark] = [], backoffUntil: Date? = nil
    ) {
        self.name = name
        self.image = image
        self.revision = revision
        self.readyReplicas = readyReplicas
        self.desiredReplicas = desiredReplicas
        self.autoscale = autoscale
        self.sync = sync
        self.health = health
        self.message = message
        self.notes = notes
        self.lastChange = lastChange
        self.marks = heldBack && !marks.contains(.heldBack) ? [.heldBack] + marks : marks
        self.backoffUntil = backoffUntil
    }

    /// Whether the row is listed under "needs attention".
    public var needsAttention: Bool {
        health != .healthy || sync != .synced || !marks.isEmpty || backoffUntil != nil
    }
}

/// The overview page.
public struct OverviewModel: Sendable, Hashable {
    public var summary: LoopSummary
    public var attention: [Attention]
    /// Sorted by name.
    public var services: [ServiceRow]

    public init(summary: LoopSummary, attention: [Attention], services: [ServiceRow]) {
        self.summary = summary
        self.attention = attention
        self.services = services
    }
}

/// One instance on the service page.
public struct InstanceRow: Sendable, Hashable {
    public var id: String
    /// The node it runs on (a Swarm node); nil on one Docker host.
    public var node: String?
    public var state: Instance.State
    public var health: String
    public var revision: String
    public var restarts: Int
    public var exitCode: Int?
    public var created: Date?
    /// The last health probe the loop saw, for people ("pass", "GET … answered HTTP 503").
    public var lastProbe: String?
    public var lastProbeTime: Date?
    /// Since when `berth proxy` holds it drained by hand (out of rotation); nil otherwise.
    public var drainedByHand: Date?

    public init(
        id: String, node: String? = nil, state: Instance.State, health: String, revision: String, restarts: Int,
        exitCode: Int? = nil, created: Date?, lastProbe: String? = nil, lastProbeTime: Date? = nil,
        drainedByHand: Date? = nil
    ) {
        self.drainedByHand = drainedByHand
        self.id = id
        self.node = node
        self.state = state
        self.health = health
        self.revision = revision
        self.restarts = restarts
        self.exitCode = exitCode
        self.created = created
        self.lastProbe = lastProbe
        self.lastProbeTime = lastProbeTime
    }
}

/// One step of a sync that touched the service (a heal, a scale, a rollout, …).
public struct ServiceEvent: Sendable, Hashable {
    public var time: Date?
    public var action: String
    public var outcome: JournalOutcome
    public var reason: String
    public var message: String
    public var durationMs: Int
    public var revision: String?
    public var syncID: Int64

    public init(
        time: Date?, action: String, outcome: JournalOutcome, reason: String, message: String, durationMs: Int,
        revision: String?, syncID: Int64
    ) {
        self.time = time
        self.action = action
        self.outcome = outcome
        self.reason = reason
        self.message = message
        self.durationMs = durationMs
        self.revision = revision
        self.syncID = syncID
    }
}

/// One sample of a service's time series: requests per second and ready replicas.
public struct SeriesPoint: Sendable, Hashable {
    public var time: Date
    /// Nil when no balancer answered.
    public var rate: Double?
    public var replicas: Int

    public init(time: Date, rate: Double?, replicas: Int) {
        self.time = time
        self.rate = rate
        self.replicas = replicas
    }
}

/// Text that could not be produced, with why (git unreadable, no desired state yet).
public enum TextOrError: Sendable, Hashable {
    case text(String)
    case unavailable(String)
}

/// The service page.
public struct ServicePageModel: Sendable, Hashable {
    public var row: ServiceRow
    /// Nil when the service is no longer desired (it would be pruned).
    public var spec: ServiceSpec?
    public var dependsOn: [String]
    /// Sorted by id.
    public var instances: [InstanceRow]
    /// Newest first.
    public var events: [ServiceEvent]
    /// Newest first: the syncs with a step for this service.
    public var journal: [JournalRecord]
    /// Oldest first, the last hour.
    public var series: [SeriesPoint]
    /// Whether a balancer reports traffic for this project.
    public var hasTraffic: Bool
    /// `berth history SERVICE`'s text for the newest commits.
    public var history: TextOrError
    public var historyLimit: Int

    public init(
        row: ServiceRow, spec: ServiceSpec?, dependsOn: [String], instances: [InstanceRow], events: [ServiceEvent],
        journal: [JournalRecord], series: [SeriesPoint], hasTraffic: Bool, history: TextOrError, historyLimit: Int
    ) {
        self.row = row
        self.spec = spec
        self.dependsOn = dependsOn
        self.instances = instances
        self.events = events
        self.journal = journal
        self.series = series
        self.hasTraffic = hasTraffic
        self.history = history
        self.historyLimit = historyLimit
    }
}

/// The plan page: `berth plan` and `berth diff APPLIED HEAD` as they print.
public struct PlanPageModel: Sendable, Hashable {
    public var plan: TextOrError
    public var appliedCommit: String?
    public var headCommit: String?
    /// Nil when there is nothing to compare (no applied commit, or it is the head).
    public var diff: TextOrError?

    public init(plan: TextOrError, appliedCommit: String?, headCommit: String?, diff: TextOrError?) {
        self.plan = plan
        self.appliedCommit = appliedCommit
        self.headCommit = headCommit
        self.diff = diff
    }
}

/// The journal page, with its filters.
public struct JournalPageModel: Sendable, Hashable {
    public var records: [JournalRecord]
    public var service: String?
    public var result: SyncResult?
    public var limit: Int
    /// Services to offer in the filter, sorted.
    public var services: [String]
    /// Nil when the journal could be read.
    public var error: String?

    public init(records: [JournalRecord], service: String?, result: SyncResult?, limit: Int, services: [String], error: String? = nil) {
        self.records = records
        self.service = service
        self.result = result
        self.limit = limit
        self.services = services
        self.error = error
    }
}
