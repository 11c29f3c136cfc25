import ArgumentParser
import BerthCore
import BerthDocker
import BerthEngine
import Foundation
import Synchronization

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print the logs of every instance of a service, interleaved by time, each line prefixed with its instance.",
        discussion: """
            Lines of all replicas (running or exited) merge in the order Docker stamped them: \
            `booking 3f2a9c1d7b4e | GET /healthz`. With -f, follows the running instances and \
            those that start meanwhile (a rollout, a heal) until SIGINT or SIGTERM. \
            --format json prints one JSON object per line: {"time", "service", "instance", \
            "stream", "line"}. Docker runtime only.
            """)

    @Argument(help: "The service whose logs to print.", completion: ServiceCompletion.kind)
    var service: String

    @Flag(name: .shortAndLong, help: "Follow: keep printing new lines, of new instances too, until interrupted.")
    var follow = false

    @Option(name: .long, help: ArgumentHelp("Only lines since then: a duration back from now (10m, 2h) or an RFC 3339 time.", valueName: "SINCE"))
    var since: String?

    @Option(name: .long, help: "Only the last N lines of each instance.")
    var tail: Int?

    @Option(name: .long, help: ArgumentHelp("Only this instance (a container id, or its start, or its name).", valueName: "ID"))
    var instance: String?

    @Flag(name: .long, help: "Show Docker's timestamp on each line.")
    var timestamps = false

    @OptionGroup var source: SourceOptions
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var runtimeOptions: RuntimeOptions

    @Option(name: .long, help: "Output format: text or json (one object per line).")
    var format: ResultFormat = .text

    func validate() throws {
        if let since, JournalQuery.since(since, now: Date()) == nil {
            throw ValidationError("--since: expected a duration like 10m or 2h, or an RFC 3339 time, got \"\(since)\"")
        }
        if let tail, tail < 0 { throw ValidationError("--tail must be 0 or more, got \(tail)") }
    }

    func run() async throws {
        try await logs()
    }

    private func logs() async throws {
        let project = projectOptions.name(source)
        let runtime = try await runtimeOptions.connectDocker(command: "berth logs")
        let chosen = try await InstancePicker.containers(
            of: service, project: project, instance: instance, runtime: runtime, runningOnly: false)
        let sinceSeconds = since.flatMap { JournalQuery.since($0, now: Date()) }.map(\.timeIntervalSince1970)
        let printer = LogPrinter(format: format, timestamps: timestamps, service: service)
        if !follow {
            var all: [(LogLine, String, Int)] = []
            try await withThrowingTaskGroup(of: (String, [LogLine]).self) { group in
                for c in chosen {
                    group.addTask { (c.Id, try await runtime.client.logs(c.Id, since: sinceSeconds, tail: tail)) }
                }
                for try await (id, lines) in group {
                    for (i, line) in lines.enumerated() { all.append((line, id, i)) }
                }
            }
            // Docker's timestamps are fixed width: text order is time order. Ties keep each
            // instance's own order.
            all.sort { ($0.0.time, $0.1, $0.2) < ($1.0.time, $1.1, $1.2) }
            for (line, id, _) in all { printer.print(line, instance: id) }
            return
        }
        try await followLogs(project: project, runtime: runtime, chosen: chosen, since: sinceSeconds, printer: printer)
    }

    /// Follows each running instance, and each that starts from now on, until a signal.
    /// The ids to follow arrive on one stream (the chosen ones first, then those Docker
    /// reports started), so that only this task adds followers to the group.
    private func followLogs(
        project: String, runtime: DockerRuntime, chosen: [Engine.ContainerSummary], since: Double?, printer: LogPrinter
    ) async throws {
        let signals = TerminationSignals.install()
        let (ids, newID) = AsyncStream<(id: String, since: Double?, tail: Int?)>.makeStream()
        for c in chosen where c.State == "running" { newID.yield((c.Id, since, tail)) }
        let labels = [BerthLabel.project: project, BerthLabel.service: service]
        let watchForNew = instance == nil
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // New instances of the service (a rollout, a heal, a scale) join as they start.
                guard watchForNew, let events = try? await runtime.client.events(labels: labels) else { return }
                do {
                    for try await event in events where event.Action == "start" { newID.yield((event.Actor.ID, nil, nil)) }
                } catch {}
            }
            group.addTask {
                _ = await signals.wait()
                newID.finish()
            }
            var followed: Set<String> = []
            for await next in ids where followed.insert(next.id).inserted {
                group.addTask {
                    guard let lines = try? await runtime.client.followLogs(next.id, since: next.since, tail: next.tail)
                    else { return }
                    do { for try await line in lines { printer.print(line, instance: next.id) } } catch {}
                }
            }
            group.cancelAll()
        }
    }
}

/// Which containers of a service a command acts on: all of them, the running ones, or the
/// one `--instance` names (by id, a start of it, or its name).
enum InstancePicker {
    static func containers(
        of service: String, project: String, instance: String?, runtime: DockerRuntime, runningOnly: Bool
    ) async throws -> [Engine.ContainerSummary] {
        let all: [Engine.ContainerSummary]
        do {
            all = try await runtime.client.listContainers(labels: [BerthLabel.project: project, BerthLabel.service: service])
                .sorted { $0.Id < $1.Id }
        } catch {
            throw CommandFailure("error: listing the instances of \(service) in project \(project): \(error)")
        }
        if all.isEmpty {
            let names = Set(try await runtime.observe(project: project).services.map(\.name))
                .subtracting([ObservedService.straysName]).sorted()
            var message = "error: no instance of \(service) exists in project \(project)"
            if let close = Suggestion.closest(to: service, among: names) {
                message += "; did you mean \(close)?"
            } else if !names.isEmpty {
                message += " (running services: \(names.joined(separator: ", ")))"
            } else {
                message += " (nothing runs for it: is --project right? berth status shows what runs)"
            }
            throw CommandFailure(SafeText.escaped(message))
        }
        if let instance {
            let name = { (c: Engine.ContainerSummary) in (c.Names?.first ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/")) }
            let matches = all.filter { $0.Id.hasPrefix(instance) || name($0) == instance }
            guard matches.count == 1 else {
                let ids = all.map { String($0.Id.prefix(12)) }.joined(separator: ", ")
                throw CommandFailure(SafeText.escaped(matches.isEmpty
                    ? "error: \(service) has no instance \(instance); its instances: \(ids)"
                    : "error: --instance \(instance) names \(matches.count) instances of \(service); give more of the id (\(ids))"))
            }
            return matches
        }
        let chosen = runningOnly ? all.filter { $0.State == "running" } : all
        if chosen.isEmpty {
            throw CommandFailure("error: no instance of \(service) runs now (\(all.count) exited); berth status says why")
        }
        return chosen
    }
}

/// Prints log lines from several tasks, one whole line at a time.
final class LogPrinter: Sendable {
    let format: ResultFormat
    let timestamps: Bool
    let service: String
    private let lock = Mutex(())

    init(format: ResultFormat, timestamps: Bool, service: String) {
        self.format = format
        self.timestamps = timestamps
        self.service = service
    }

    struct Line: Encodable {
        var time: String
        var service: String
        var instance: String
        var stream: String
        var line: String
    }

    func print(_ line: LogLine, instance id: String) {
        let short = String(id.prefix(12))
        let text: String
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = (try? encoder.encode(
                Line(time: line.time, service: service, instance: short, stream: line.stream.rawValue, line: line.text))) ?? Data()
            text = String(decoding: data, as: UTF8.self)
        case .text:
            // What a container writes may hold terminal escapes: spelled out, as everything
            // Berth prints from outside.
            text = (timestamps ? line.time + " " : "") + SafeText.escaped("\(service) \(short) | \(line.text)")
        }
        lock.withLock { _ in
            FileHandle.standardOutput.write(Data((text + "\n").utf8))
        }
    }
}

extension RuntimeOptions {
    /// For `logs`, `exec` and `down`, which work on one Docker Engine: a Swarm is refused
    /// with what to use there.
    func connectDocker(command: String) async throws -> DockerRuntime {
        if try kind() == .swarm {
            throw CommandFailure(
                "error: \(command) works on one Docker Engine, not on a Swarm (--runtime swarm or BERTH_RUNTIME=swarm); on the manager use docker service logs, or docker service rm for the project's services")
        }
        return try await connect()
    }
}
