import ArgumentParser
import BerthCore
import BerthEngine
import BerthGit
import Foundation

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Pin a service to an earlier revision from its git history, until a newer commit changes it.",
        discussion: """
            Without --to, the revision the service ran before its current one (the newest \
            commit in its history whose revision differs). The pin keeps git's replica count; \
            it is recorded in <state-dir>/controls.json and in the journal (with who ran it), \
            survives restarts, and ends by itself when a newer commit changes the service's \
            revision (or with --release).

            When nothing acts on the project, rollback rolls the service out at once (as \
            berth apply would). While berth watch runs, the watch applies it: rollback asks it \
            to sync now when BERTH_API_TOKEN is set, else says how.

            Exit codes: 0 pinned (and applied, when applied here), 1 error or a failed rollout.
            """)

    @Argument(help: "The service to roll back.", completion: ServiceCompletion.kind)
    var service: String

    @Option(name: .long, help: ArgumentHelp("The commit (or branch, tag, HEAD~N) whose revision of the service to run.", valueName: "COMMIT"))
    var to: String?

    @Flag(name: .long, help: "Remove the pin: the service runs git's revision again.")
    var release = false

    @OptionGroup var options: ControlOptions

    func validate() throws {
        if release && to != nil { throw ValidationError("--release and --to exclude each other: --release removes the pin") }
    }

    func run() async throws {
        try await rollback()
    }

    private func rollback() async throws {
        let flow = options.flow()
        let src = try await withSourceErrors { try await options.source.openSource() }
        let desired = try await withSourceErrors { try await src.desiredState(revision: options.source.ref, path: options.source.path) }
        let current = try options.gitSpec(service, in: desired, project: flow.project)
        let mark = flow.mark()
        if release {
            guard (try? flow.store.read())?[service: service].pin != nil else {
                throw CommandFailure("error: \(service) is not pinned; nothing to release")
            }
            try await options.carryOut(
                flow, service: service, action: "unpin",
                sentence: "\(service): rollback pin released by \(mark.by); it runs git's revision \(current.revision.id) again",
                mark: mark, desired: desired, apply: true, command: "berth rollback"
            ) { $0[service: service].pin = nil }
        } else {
            let (target, commit) = try await self.target(src, current: current)
            let pin = Pin(spec: target, commit: commit, gitRevision: current.revision.id, mark: mark)
            try await options.carryOut(
                flow, service: service, action: "rollback",
                sentence: "\(service): pinned to revision \(pin.revision) (\(target.image), commit \(commit.prefix(7))) by \(mark.by), until a commit changes its revision (git has \(current.revision.id))",
                mark: mark, desired: desired, apply: true, command: "berth rollback"
            ) { $0[service: service].pin = pin }
        }
    }

    /// The spec to pin to, and the commit it comes from: `--to`'s, else the newest commit in
    /// the service's history whose revision differs from the current one.
    private func target(_ src: GitDesiredStateSource, current: ServiceSpec) async throws -> (ServiceSpec, String) {
        if let to {
            let commit = try await withSourceErrors { try await src.repository.resolve(to) }
            let there = try await withSourceErrors { try await src.desiredState(revision: commit.hex, path: options.source.path) }
            guard let spec = there.services[service] else {
                throw CommandFailure(
                    "error: \(service) is not in the desired state at \(to) (\(commit.hex.prefix(7)))\(there.hasErrors ? ", whose manifests have errors" : ""); pick a commit from `berth history \(service)`")
            }
            guard spec.revision != current.revision else {
                throw CommandFailure(
                    "error: \(service) has the same revision \(spec.revision.id) at \(to) as at \(options.source.ref): nothing to roll back to; pick an older commit from `berth history \(service)`")
            }
            return (spec, commit.hex)
        }
        let start = try await withSourceErrors { try await src.repository.resolve(options.source.ref) }
        let path = try await withSourceErrors { try await src.manifestsPath(at: start, requested: options.source.path, revision: options.source.ref) }
        let entries = try await withSourceErrors { try await src.history(from: start, path: path, service: service, limit: 200) }
        for entry in entries {
            let there = try await withSourceErrors { try await src.desiredState(at: entry.commit.id, path: path) }
            if let spec = there.services[service], spec.revision != current.revision { return (spec, entry.commit.id.hex) }
        }
        throw CommandFailure(
            "error: \(service) has had no other revision in git (its last \(entries.count) change\(entries.count == 1 ? "" : "s")): nothing to roll back to; pass --to COMMIT")
    }
}

/// What the control commands print: a sentence and how it took effect (text), or one
/// `ControlDocument` (json); progress went to standard error.
enum ControlOutput {
    static func print(
        format: ResultFormat, project: String, service: String?, action: String, sentence: String, mark: ControlMark,
        effect: ControlFlow.Effect
    ) {
        switch format {
        case .json:
            let document = ControlDocument(
                project: project, service: service, action: action, message: sentence, by: mark.by, at: mark.at,
                effect: effect.document)
            Swift.print((try? encodeJSON(document)) ?? "{}")
        case .text:
            Swift.print(SafeText.escaped(sentence))
            if let line = effect.sentence { Swift.print(SafeText.escaped(line)) }
            if case .applied(let report?, _) = effect {
                for failure in report.failures { Swift.print("  " + SafeText.escaped(failure.line)) }
            }
        }
    }
}
