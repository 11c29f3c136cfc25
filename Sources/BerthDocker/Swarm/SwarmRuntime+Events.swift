public import BerthCore

extension SwarmRuntime {
    /// The project's task ends, as they happen: Swarm (20.10) sends no task events, so the
    /// manager's task list is polled every `interval` and a task that ended by itself since
    /// the last look (failed, complete, rejected: a crash, an exit, a `docker kill` on its
    /// node) is reported as `died` with its exit code. Swarm replaces it on its own; the
    /// watch logs it and counts it for the crash-loop backoff. Tasks Swarm shut down itself
    /// (an update, a scale-down) are not news. Ends with the error of a failed poll (the
    /// watch reconnects).
    public func events(project: String) -> AsyncThrowingStream<RuntimeEvent, any Error> {
        events(project: project, interval: .seconds(1))
    }

    public func events(project: String, interval: Duration) -> AsyncThrowingStream<RuntimeEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<RuntimeEvent, any Error>.makeStream()
        let client = self.client
        let task = Task {
            do {
                var seen: Set<String>? = nil
                while !Task.isCancelled {
                    let tasks = try await client.listTasks(labels: [BerthLabel.project: project])
                    let ended = tasks.filter { SwarmObservation.failedStates.contains($0.Status.State) }
                    if let known = seen {
                        for task in Self.newlyEnded(ended, known: known) {
                            let labels = task.Spec.ContainerSpec.Labels ?? [:]
                            continuation.yield(
                                RuntimeEvent(
                                    kind: .died(exitCode: task.Status.ContainerStatus?.ExitCode), instanceID: task.ID,
                                    service: labels[BerthLabel.service],
                                    revision: labels[BerthLabel.revision].map(Revision.init)))
                        }
                    }
                    seen = Set(ended.map(\.ID))
                    try await Task.sleep(for: interval)
                }
                continuation.finish()
            } catch is CancellationError {
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The tasks of `ended` not in `known`, by id.
    static func newlyEnded(_ ended: [Engine.SwarmTask], known: Set<String>) -> [Engine.SwarmTask] {
        ended.filter { !known.contains($0.ID) }.sorted { $0.ID < $1.ID }
    }
}
