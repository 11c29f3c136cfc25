import ArgumentParser
import BerthCore
import BerthEngine
import Foundation

struct ScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Run a service at another replica count for a while: until the next commit that changes it.",
        discussion: """
            GitOps keeps the count in git, so this is a temporary override, for an incident: \
            status shows it (scaled to N … git: M), and the next commit that changes the \
            service in any way ends it, as does --reset. For a lasting count, change \
            spec.replicas and commit. A service with autoscale is refused: its count is the \
            autoscaler's (change autoscale.min/max in git, or suspend it to freeze it).

            The override is recorded in <state-dir>/controls.json and in the journal (with who \
            ran it). When nothing acts on the project, scale applies it at once; while berth \
            watch runs, the watch applies it (asked to sync now when BERTH_API_TOKEN is set).

            Exit codes: 0 set (and applied, when applied here), 1 error or a failed step.
            """)

    @Argument(help: "The service to scale.", completion: ServiceCompletion.kind)
    var service: String

    @Argument(help: "The replica count (0 to 10000).")
    var replicas: Int?

    @Flag(name: .long, help: "End the override: the service runs git's count again.")
    var reset = false

    @OptionGroup var options: ControlOptions

    func validate() throws {
        switch (replicas, reset) {
        case (nil, false): throw ValidationError("give the replica count (berth scale \(service) 3), or --reset to end an override")
        case (_?, true): throw ValidationError("give either a replica count or --reset, not both")
        case (let n?, false) where !(0...ManifestLimits.replicas).contains(n):
            throw ValidationError("the replica count must be between 0 and \(ManifestLimits.replicas), got \(n)")
        default: break
        }
    }

    func run() async throws {
        try await scale()
    }

    private func scale() async throws {
        let flow = options.flow()
        let desired = try await options.source.loadDesiredState()
        let spec = try options.gitSpec(service, in: desired, project: flow.project)
        let mark = flow.mark()
        if reset {
            guard (try? flow.store.read())?[service: service].scale != nil else {
                throw CommandFailure("error: \(service) has no replica override; it runs git's count (\(spec.replicas))")
            }
            try await options.carryOut(
                flow, service: service, action: "unscale",
                sentence: "\(service): replica override ended by \(mark.by); it runs git's count (\(spec.replicas)) again",
                mark: mark, desired: desired, apply: true, command: "berth scale"
            ) { $0[service: service].scale = nil }
        } else {
            let n = replicas!
            if let autoscale = spec.autoscale {
                throw CommandFailure(
                    "error: \(service) is autoscaled (min \(autoscale.min), max \(autoscale.max)): the autoscaler sets its count, so an override would be undone within seconds; change autoscale.min/max in git and commit, or `berth suspend \(service)` to freeze it as it runs")
            }
            try await options.carryOut(
                flow, service: service, action: "scale",
                sentence: "\(service): scaled to \(n) by \(mark.by) (git: \(spec.replicas)), until the next commit that changes \(service) (or berth scale \(service) --reset)",
                mark: mark, desired: desired, apply: true, command: "berth scale"
            ) { $0[service: service].scale = ReplicaOverride(replicas: n, gitSpec: spec, mark: mark) }
        }
    }
}
