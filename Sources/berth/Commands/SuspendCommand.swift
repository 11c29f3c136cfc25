import ArgumentParser
import BerthCore
import BerthEngine
import Foundation

/// `berth suspend [SERVICE]` and `berth resume [SERVICE]`: whether `berth watch` (and
/// `berth apply`) may act on a service, or on the whole project.
struct SuspendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suspend",
        abstract: "Make berth watch leave a service (or the whole project) alone until berth resume.",
        discussion: """
            A suspended service is neither updated, scaled, healed nor pruned, by berth watch or \
            berth apply, whatever git says; status (text and JSON) and the watch's API show it as \
            suspended (who, when). For an incident: debug a container without Berth replacing \
            it. Recorded in <state-dir>/controls.json and in the journal; survives restarts. \
            A running watch reads it at its next sync (asked to sync now when BERTH_API_TOKEN \
            is set).
            """)

    @Argument(help: "The service to suspend (default: the whole project).", completion: ServiceCompletion.kind)
    var service: String?

    @OptionGroup var options: ControlOptions

    func run() async throws {
        try await options.change(service: service, suspend: true)
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Let berth watch act on a suspended service (or the whole project) again.",
        discussion: """
            Ends a suspension of `berth suspend`. A running watch brings the service back in \
            line with git at its next sync (asked to sync now when BERTH_API_TOKEN is set); \
            with no watch, run berth apply.
            """)

    @Argument(help: "The service to resume (default: the whole project).", completion: ServiceCompletion.kind)
    var service: String?

    @OptionGroup var options: ControlOptions

    func run() async throws {
        try await options.change(service: service, suspend: false)
    }
}

extension ControlOptions {
    /// `berth suspend` (`suspend`) or `berth resume` of `service`, or of the whole project.
    func change(service: String?, suspend: Bool) async throws {
        let flow = flow()
        let project = flow.project
        let desired = try await source.loadDesiredState()
        let controls = (try? flow.store.read()) ?? ProjectControls()
        if let service {
            // A service no longer in git that still runs may be suspended too (to keep it from a prune).
            let observed = try? await runtimeOptions.connectObserver().observe(project: project)
            if controls[service: service].suspended == nil || suspend {
                try ServiceNames.check(service, desired: desired, observed: observed, project: project)
            }
        }
        let mark = flow.mark()
        let subject = service ?? "project \(project)"
        let current = service.map { controls[service: $0].suspended } ?? controls.suspended
        let sentence: String
        if suspend {
            guard current == nil else {
                throw CommandFailure("error: \(subject) is already suspended (by \(current!.by) at \(current!.at)); berth resume\(service.map { " \($0)" } ?? "") ends it")
            }
            sentence = "\(subject): suspended by \(mark.by); berth watch leaves it alone until berth resume\(service.map { " \($0)" } ?? "")"
        } else {
            guard let current else {
                var why = "error: \(subject) is not suspended"
                if service != nil, controls.suspended != nil { why += " (the whole project is: berth resume, with no service, ends that)" }
                throw CommandFailure(why)
            }
            sentence = "\(subject): resumed by \(mark.by) (suspended by \(current.by) at \(current.at)); berth watch acts on it again"
        }
        try await carryOut(
            flow, service: service, action: suspend ? "suspend" : "resume", sentence: sentence, mark: mark,
            desired: desired, apply: false, command: suspend ? "berth suspend" : "berth resume"
        ) {
            if let service {
                $0[service: service].suspended = suspend ? mark : nil
            } else {
                $0.suspended = suspend ? mark : nil
            }
        }
    }
}
