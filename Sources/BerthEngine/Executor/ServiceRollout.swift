import BerthCore

/// Steps on a runtime that rolls out whole services itself (`ServiceRuntime`): one call per
/// step, waited for until the runtime converged or gave up; the outcome as the runtime
/// judged it (a rollback it made is a failure, `rolledBack`, so the revision is held back).
extension StepContext {
    /// The runtime, when it rolls out whole services.
    var wholeServices: (any ServiceRuntime)? {
        guard let services = runtime as? any ServiceRuntime, services.managesRollouts else { return nil }
        return services
    }

    func runWholeService(_ step: PlanStep, on services: any ServiceRuntime) async -> StepOutcome {
        if step.action == .delete {
            var grace = spec?.stopGracePeriod
            if grace == nil, let id = step.instances?.first {
                grace = (try? await runtime.recordedSpec(instanceID: id))??.stopGracePeriod
            }
            do {
                try await services.removeService(project: executor.project, service: step.service, grace: grace ?? .seconds(10))
                return .succeeded
            } catch {
                return .failed("could not remove \(step.service): \(error)")
            }
        }
        guard let spec else { return .failed("no desired spec for \(step.service)") }
        let replicas = step.to?.replicas ?? spec.replicas
        emit(step.service, .waiting(
            "the runtime to converge on \(replicas) replica\(replicas == 1 ? "" : "s") of revision \(spec.revision.id)"))
        let request = ServiceRequest(
            project: executor.project, spec: spec, replicas: replicas, commit: commit, action: step.action,
            deadline: deadline(spec))
        let outcome: ServiceOutcome
        do {
            outcome = try await services.applyService(request)
        } catch {
            return .failed("\(error)")
        }
        let newText = "revision \(spec.revision.id) (\(spec.image))"
        let oldText = step.from.map { from in from.image.isEmpty ? from.revision : "\(from.revision) (\(from.image))" }
        switch outcome {
        case .converged:
            return .succeeded
        case .rolledBack(let why):
            return .rolledBack(
                "rollout of \(newText) failed (\(why)): the runtime rolled it back\(oldText.map { " to \($0)" } ?? "")")
        case .paused(let why):
            return .paused("rollout of \(newText) failed (\(why)): the runtime paused it; fix the manifest and apply again")
        case .failed(let why):
            return .failed(why)
        case .timedOut(let why):
            return .failed(
                "\(replicas) replica\(replicas == 1 ? "" : "s") of \(newText) not running within progressDeadline \(spec.update.progressDeadline): \(why)")
        }
    }
}
