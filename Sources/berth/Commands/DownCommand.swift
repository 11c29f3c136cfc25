import ArgumentParser
import BerthCore
import BerthDocker
import BerthEngine
import BerthProxy
import Foundation

struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Remove everything the project runs: its containers, its network and its berth proxy.",
        discussion: """
            Every container of the project (of every service, and strays) is stopped as its \
            service asks (SIGTERM, then SIGKILL after stopGracePeriod) and removed; then the \
            project network; the project's berth proxy is stopped. Named volumes are kept \
            unless --delete-volumes. Asks first on a terminal (--auto-approve: don't). Refused \
            while berth watch runs for the project, which would start everything again: stop \
            it first. Journaled (with who ran it). Git and the journal stay: \
            berth apply brings the project back.
            Docker runtime only. Exit codes: 0 removed (or nothing to remove), 1 error.
            """)

    @Flag(name: .customLong("delete-volumes"), help: "Also remove the project's named volumes (their data is lost).")
    var deleteVolumes = false

    @Flag(name: .long, help: "Remove without asking (needed when there is no terminal).")
    var autoApprove = false

    @OptionGroup var source: SourceOptions
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var runtimeOptions: RuntimeOptions

    @Option(name: .long, help: "Output format: text or json.")
    var format: ResultFormat = .text

    struct Document: Encodable {
        var formatVersion = 1
        var project: String
        var removed: TeardownReport
        /// The pid of the berth proxy stopped, if one ran.
        var proxyStopped: Int32?
    }

    func run() async throws {
        try await down()
    }

    private func down() async throws {
        let project = projectOptions.name(source)
        let stateDirectory = state.directory(project: project)
        let attempt: ProjectLease.Attempt
        do {
            attempt = try ProjectLease.tryAcquire(stateDirectory: stateDirectory, holder: ProjectLease.Holder(command: "berth down"))
        } catch {
            throw CommandFailure("error: \(error)")
        }
        guard case .acquired(let lease) = attempt else {
            guard case .held(let holder) = attempt else { return }
            let who = ProjectLeasing.who(holder, stateDirectory: stateDirectory)
            if let holder, holder.isWatch {
                throw CommandFailure(
                    "error: project \(project) is in use by \(who), which would start everything again: stop it first (kill -TERM \(holder.pid)), then run berth down")
            }
            throw CommandFailure("error: project \(project) is in use by \(who); run berth down when it has finished")
        }
        defer { withExtendedLifetime(lease) {} }
        let runtime = try await runtimeOptions.connectDocker(command: "berth down")
        let observed: ObservedState
        do {
            observed = try await runtime.observe(project: project)
        } catch {
            throw CommandFailure("error: observing project \(project): \(error)")
        }
        let count = observed.services.map(\.instances.count).reduce(0, +)
        if count > 0 && !autoApprove {
            guard canAsk() else {
                throw CommandFailure("error: berth down asks before removing anything, and there is no terminal to ask on: pass --auto-approve")
            }
            let names = observed.services.map(\.name).sorted().joined(separator: ", ")
            FileHandle.standardError.write(Data(SafeText.escaped(
                "Remove \(count) container\(count == 1 ? "" : "s") of project \(project) (\(names))\(deleteVolumes ? " and its volumes" : "")? Only 'yes' is accepted: ").utf8))
            guard readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces) == "yes" else {
                throw CommandFailure("Down cancelled: nothing was removed.")
            }
        }
        let started = Date()
        let report: TeardownReport
        do {
            report = try await runtime.takeDown(project: project, deleteVolumes: deleteVolumes)
        } catch {
            throw CommandFailure("error: removing project \(project): \(error); run berth down again to remove the rest")
        }
        let proxy = await stopProxy(project: project, stateDirectory: stateDirectory)
        try await journal(observed, report: report, stateDirectory: stateDirectory, started: started)

        switch format {
        case .json:
            print(try encodeJSON(Document(project: project, removed: report, proxyStopped: proxy)))
        case .text:
            print(SafeText.escaped(Self.summary(project: project, observed: observed, report: report, proxy: proxy)))
        }
    }

    /// `Removed 3 containers of project shop (booking ×2, customer) and network berth-shop; …`
    static func summary(project: String, observed: ObservedState, report: TeardownReport, proxy: Int32?) -> String {
        if report.containers.isEmpty && report.networks.isEmpty && report.volumes.isEmpty && proxy == nil {
            var text = "Nothing to remove: project \(project) runs nothing."
            if !report.keptVolumes.isEmpty { text += " Kept volumes: \(report.keptVolumes.joined(separator: ", ")) (--delete-volumes removes them)." }
            return text
        }
        let services = observed.services.filter { !$0.instances.isEmpty }.sorted { $0.name < $1.name }
            .map { $0.instances.count > 1 ? "\($0.name) ×\($0.instances.count)" : $0.name }
        var parts = ["Removed \(report.containers.count) container\(report.containers.count == 1 ? "" : "s") of project \(project)"
            + (services.isEmpty ? "" : " (\(services.joined(separator: ", ")))")]
        if !report.networks.isEmpty { parts.append("network \(report.networks.joined(separator: ", "))") }
        if !report.volumes.isEmpty { parts.append("volumes \(report.volumes.joined(separator: ", "))") }
        var text = parts.joined(separator: ", ") + "."
        if let proxy { text += " Stopped berth proxy (pid \(proxy))." }
        if !report.keptVolumes.isEmpty {
            text += " Kept volumes: \(report.keptVolumes.joined(separator: ", ")) (--delete-volumes removes them)."
        }
        return text
    }

    /// The project's berth proxy, when its state file names a process that answers there:
    /// SIGTERM, and its state file goes with it.
    private func stopProxy(project: String, stateDirectory: String) async -> Int32? {
        guard let file = try? ProxyStateFile.read(directory: stateDirectory, project: project),
              let client = try? ProxyControlClient(stateDirectory: stateDirectory, project: project),
              (try? await client.endpoints()) != nil, kill(file.pid, 0) == 0
        else { return nil }
        guard kill(file.pid, SIGTERM) == 0 else { return nil }
        for _ in 0..<100 where kill(file.pid, 0) == 0 { try? await Task.sleep(for: .milliseconds(50)) }
        return file.pid
    }

    private func journal(_ observed: ObservedState, report: TeardownReport, stateDirectory: String, started: Date) async throws {
        let journal = try StateFiles.openJournal(stateDirectory)
        let steps = observed.services.filter { !$0.instances.isEmpty }.sorted { $0.name < $1.name }.map { s in
            JournalStep(
                action: "down", service: s.name, wave: 0, reason: "berth down",
                outcome: .succeeded, message: "removed \(s.instances.map { String($0.id.prefix(12)) }.sorted().joined(separator: ", "))",
                durationMs: Int(Date().timeIntervalSince(started) * 1000))
        }
        guard !steps.isEmpty || !report.volumes.isEmpty else { return }
        _ = try? await journal.append(JournalRecord(
            started: Timestamp.string(started), ended: Timestamp.string(Date()), commit: nil, trigger: .manual,
            result: .succeeded, steps: steps,
            errors: report.volumes.isEmpty ? [] : ["volumes removed: \(report.volumes.joined(separator: ", "))"],
            actor: OperatorIdentity.current()))
    }
}
