import Foundation
public import BerthCore

/// What the executor asks of a runtime that rolls out whole services (`ServiceRuntime`):
/// one Swarm service per Berth service, created, updated (Swarm's own rolling update) or
/// scaled, then waited for until `SwarmConvergence` says it converged or gave up.
///
/// - Only a new revision changes the task template (so only it restarts tasks); a scale, or
///   a new commit of the same revision, changes the replica count and the service's labels.
/// - Swarm rolls back (or pauses) a failed update itself (`UpdateConfig.FailureAction`);
///   Berth waits for the rollback to finish. When Berth finds the update failed before Swarm
///   does — tasks that keep failing, or `progressDeadline` passed — and `onFailure` is
///   `rollback`, Berth asks Swarm for the rollback and waits for it.
extension SwarmRuntime {
    /// What `deploy` changed.
    public enum Change: Sendable, Hashable {
        case created
        /// A new revision: Swarm rolls it out; the revision it replaces, and its replicas.
        case rollout(from: String?, replicas: Int)
        /// Same revision: replica count and labels only (no task restarts).
        case resized
        case unchanged
    }

    public func applyService(_ request: ServiceRequest) async throws -> ServiceOutcome {
        let unsupported = SwarmServiceMapping.unsupportedFields(request.spec)
        if !unsupported.isEmpty {
            return .failed(
                "\(request.spec.name) uses \(unsupported.joined(separator: ", ")), which this version of Berth does not carry onto Swarm services yet; remove \(unsupported.count == 1 ? "it" : "them") from its manifest, or run it with --runtime docker; nothing was changed")
        }
        var spec = request.spec
        spec.replicas = request.replicas
        let wanted = InstanceRequest(project: request.project, spec: spec, commit: request.commit)
        // Ended tasks Swarm still lists from earlier: not failures of this change.
        let earlier: Set<String>
        if let existing = try await service(project: request.project, name: spec.name) {
            earlier = Set(try await client.listTasks(service: existing.ID).filter { $0.DesiredState != "running" }.map(\.ID))
        } else {
            earlier = []
        }
        let change = try await deploy(wanted)
        let verdict = try await waitConverged(
            project: request.project, service: spec.name, revision: spec.revision, replicas: spec.replicas,
            ignoring: earlier, deadline: request.deadline)
        switch verdict {
        case .converged:
            return .converged
        case .rolledBack(let why):
            return .rolledBack(why)
        case .paused(let why):
            return .paused(why)
        case .rollingBack(let why):
            // Swarm gave up on the update before the deadline and still puts the old tasks
            // back: wait for that too (as long again at most).
            let back = try await waitConverged(
                project: request.project, service: spec.name, revision: spec.revision, replicas: spec.replicas,
                ignoring: earlier, deadline: .now + .milliseconds(spec.update.progressDeadline.milliseconds))
            switch back {
            case .paused(let why): return .paused(why)
            case .rolledBack(let why): return .rolledBack(why)
            default: return .rolledBack("\(why); Swarm's rollback was still running when Berth stopped waiting")
            }
        case .failed(let why):
            return try await giveUp(request: request, change: change, earlier: earlier, why: why, timedOut: false)
        case .progressing(let why):
            return try await giveUp(request: request, change: change, earlier: earlier, why: why, timedOut: true)
        }
    }

    /// The outcome of a change Berth found failing (or not done by its deadline) before
    /// Swarm did: with `onFailure: rollback`, a rollout is rolled back to the revision it
    /// replaced (and waited for).
    private func giveUp(
        request: ServiceRequest, change: Change, earlier: Set<String>, why: String, timedOut: Bool
    ) async throws -> ServiceOutcome {
        let name = request.spec.name
        let failure = timedOut ? "not converged within progressDeadline \(request.spec.update.progressDeadline): \(why)" : why
        guard case .rollout(let from?, let replicas) = change, request.spec.update.onFailure == .rollback else {
            return timedOut ? .timedOut(why) : .failed(why)
        }
        try await rollback(project: request.project, service: name)
        let back = try await waitConverged(
            project: request.project, service: name, revision: Revision(from), replicas: replicas, ignoring: earlier,
            deadline: .now + .milliseconds(request.spec.update.progressDeadline.milliseconds))
        switch back {
        case .converged:
            return .rolledBack("\(failure); Berth asked Swarm to roll it back")
        default:
            return .failed("\(failure); Berth asked Swarm to roll it back, and the rollback did not converge: \(back)")
        }
    }

    public func removeService(project: String, service name: String, grace: Millis) async throws {
        try await remove(project: project, service: name, wait: .milliseconds(grace.milliseconds) + .seconds(10))
    }

    /// The spec a task was started from: the labels of its service's spec (or previous spec,
    /// during an update) of the task's revision, with the task's env values.
    public func recordedSpec(instanceID: String) async throws -> ServiceSpec? {
        let task: Engine.SwarmTask
        do {
            task = try await client.inspectTask(instanceID)
        } catch let error as DockerError where error.code == .notFound {
            return nil
        }
        let revision = task.Spec.ContainerSpec.Labels?[BerthLabel.revision]
        let service = try await client.inspectService(task.ServiceID)
        let labels = [service.Spec.Labels, service.PreviousSpec?.Labels].compactMap { $0 }
            .first { $0[BerthLabel.revision] == revision }
        return labels.flatMap { BerthLabel.recordedSpec($0, environment: task.Spec.ContainerSpec.Env ?? []) }
    }

    // MARK: - The calls underneath

    /// Creates the service of `request`, or updates it: a new task template (a rollout) when
    /// the revision changed, else only the replica count and the service's labels.
    @discardableResult
    public func deploy(_ request: InstanceRequest) async throws -> Change {
        try await prepare(project: request.project)
        var attempt = 0
        while true {
            attempt += 1
            let mapped = SwarmServiceMapping.spec(for: request)
            guard let existing = try await service(project: request.project, name: request.spec.name) else {
                do {
                    _ = try await client.createService(mapped)
                    return .created
                } catch let error as DockerError where error.code == .conflict && attempt < 3 {
                    continue  // another Berth created it between our look and our create
                }
            }
            let current = existing.Spec.Labels?[BerthLabel.revision]
            var spec = mapped
            let change: Change
            if current == request.spec.revision.id {
                // The tasks stay as they are: the template as it was sent (the commit they carry).
                spec.TaskTemplate.ContainerSpec.Labels?[BerthLabel.commit] =
                    existing.Spec.TaskTemplate.ContainerSpec.Labels?[BerthLabel.commit] ?? ""
                // (The engine's copy of the spec carries defaults of its own: compare what
                // Berth changes.)
                if spec.replicas == existing.Spec.replicas && spec.Labels == existing.Spec.Labels { return .unchanged }
                change = .resized
            } else {
                change = .rollout(from: current, replicas: existing.Spec.replicas)
            }
            do {
                try await client.updateService(existing.ID, version: existing.Version.Index, spec: spec)
                return change
            } catch let error as DockerError where Self.isStaleVersion(error) && attempt < 3 {
                continue  // changed since we read it (Swarm's own update status moves it): read again
            }
        }
    }

    /// The engine refused an update made from a stale read.
    static func isStaleVersion(_ error: DockerError) -> Bool {
        (error.engineMessage ?? error.message).contains("update out of sequence")
    }

    /// Asks Swarm to go back to the service's previous spec.
    public func rollback(project: String, service name: String) async throws {
        guard let existing = try await service(project: project, name: name) else { return }
        try await client.updateService(existing.ID, version: existing.Version.Index, spec: existing.Spec, rollback: true)
    }

    /// Removes the service (Swarm stops its tasks with their grace period) and waits, up to
    /// `wait`, until none of its tasks runs any more.
    public func remove(project: String, service name: String, wait: Duration = .zero) async throws {
        guard let existing = try await service(project: project, name: name) else { return }
        do {
            try await client.removeService(existing.ID)
        } catch let error as DockerError where error.code == .notFound {}
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline {
            let left = try await client.listTasks(labels: [BerthLabel.project: project, BerthLabel.service: name])
                .filter { $0.ServiceID == existing.ID && !SwarmObservation.endedStates.contains($0.Status.State) }
            if left.isEmpty { return }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Where the service of `name` stands against `revision` and `replicas`.
    public func convergence(
        project: String, service name: String, revision: Revision, replicas: Int, ignoring: Set<String> = []
    ) async throws -> SwarmConvergence {
        guard let existing = try await service(project: project, name: name) else {
            return .failed("the Swarm service \(SwarmNaming.service(project: project, service: name)) is gone")
        }
        async let tasks = client.listTasks(service: existing.ID)
        async let nodes = client.listNodes()
        return SwarmConvergence.judge(
            service: existing, tasks: try await tasks, nodes: try await nodes, revision: revision, replicas: replicas,
            ignoring: ignoring)
    }

    /// Polls `convergence` every `every` until its verdict is final or `deadline` passes
    /// (then the last verdict, still progressing or rolling back, is the answer).
    public func waitConverged(
        project: String, service name: String, revision: Revision, replicas: Int, ignoring: Set<String> = [],
        deadline: ContinuousClock.Instant, every: Duration = .milliseconds(250)
    ) async throws -> SwarmConvergence {
        while true {
            let last = try await convergence(
                project: project, service: name, revision: revision, replicas: replicas, ignoring: ignoring)
            if last.isFinal || ContinuousClock.now >= deadline { return last }
            try await Task.sleep(for: every)
        }
    }
}
