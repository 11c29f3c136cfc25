import ArgumentParser
import BerthCore
import BerthDocker
import BerthEngine
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show, per service, the desired state in git against what runs: replicas, sync and health.",
        discussion: """
            SYNC is Synced when every instance runs git's revision at git's count. HEALTH is \
            that of what Berth means to run — git's revision, or the one a failed rollout was \
            rolled back to — the worst that applies: Degraded (an instance exited or is \
            unhealthy, or fewer serve than desired because berth proxy holds some drained by \
            hand), Missing (nothing runs), Progressing (a rollout or scaling is under \
            way), Healthy. MESSAGE says why what runs differs from git: a rollout held back \
            until a newer commit (from <state-dir>/journal.sqlite, written by berth apply and \
            berth watch), or a newest commit with manifest errors (held back as it runs).
            The JSON (--format json) is the document that `berth plan --observed FILE` reads.
            With --runtime swarm, each instance names its node, a NODES table follows (JSON: \
            "nodes"), and a node that is down, drained or paused is a warning on stderr.
            Exit codes: 0 success (whatever the health), 1 error.
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var projectOptions: ProjectOptions

    /// Its journal says which rollouts are held back.
    @OptionGroup var state: StateOptions

    @Option(name: .long, help: "Output format: text or json.")
    var format: ResultFormat = .text

    @OptionGroup var colour: ColourOptions

    func run() async throws {
        let desired = try await source.loadDesiredState()
        ErrorReporting.report(desired.diagnostics.sorted(), json: format == .json)
        let runtime = try await runtimeOptions.connectObserver()
        let project = projectOptions.name(source)
        let observed: ObservedState
        let nodes: [SwarmNodeStatus]
        do {
            observed = try await runtime.observe(project: project)
            nodes = try await runtime.nodes()
        } catch {
            throw CommandFailure("error: observing project \(project): \(error)")
        }
        // A node Swarm places nothing on is worth a line even in JSON mode (stderr).
        for warning in nodes.compactMap(\.warning) { printError("warning: \(warning)") }
        let context = await StateFiles.statusContext(state.directory(project: project), project: project, desired: desired)
        let report = StatusReport(desired: desired, observed: observed, context: context)
        switch format {
        case .json:
            print(try encodeJSON(StatusJSON(report: report, nodes: nodes)))
        case .text:
            print(StatusRendering.text(report, colour: colour.enabled), terminator: "")
            if !nodes.isEmpty { print("\n" + StatusRendering.nodes(nodes, observed: observed), terminator: "") }
        }
    }
}

/// The status JSON: the report's fields, and `nodes` on a Swarm (absent on one Docker Engine).
struct StatusJSON: Encodable {
    var report: StatusReport
    var nodes: [SwarmNodeStatus]

    enum CodingKeys: String, CodingKey { case nodes }

    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        if !nodes.isEmpty {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(nodes, forKey: .nodes)
        }
    }
}
