import BerthCore

/// Create, scale up and down, delete: instances started until healthy, or drained and stopped.
extension StepContext {
    func scaleUp(_ step: PlanStep, count: Int) async -> StepOutcome {
        guard let spec else { return .failed("no desired spec for \(step.service)") }
        let results = await startMany(spec, count: count, until: deadline(spec))
        let failures = results.compactMap(\.failure).sorted()
        if failures.isEmpty { return .succeeded }
        return .failed(
            "\(failures.count) of \(count) new instance\(count == 1 ? "" : "s") did not become healthy: "
                + failures.joined(separator: "; "))
    }

    /// Scale down, scale to 0, delete: stop the listed instances.
    func removeListed(_ step: PlanStep) async -> StepOutcome {
        let ids = step.instances ?? []
        guard !ids.isEmpty else { return .succeeded }
        var grace = spec?.stopGracePeriod
        if grace == nil {
            // A deleted service: the grace period its instances were started with.
            grace = (try? await runtime.recordedSpec(instanceID: ids[0]))??.stopGracePeriod
        }
        let errors = await stopMany(ids.map { instance($0, service: step.service) }, grace: grace ?? .seconds(10))
        return errors.isEmpty ? .succeeded : .failed(errors.joined(separator: "; "))
    }
}
