import BerthCore

/// Heal: failing instances replaced, keeping the count.
extension StepContext {
    /// Each failing instance is replaced, keeping the count. An exited one serves nothing:
    /// its replacement is started at once and it is removed while the replacement's health
    /// is awaited (removing first would make the start wait: the engine tears the dead
    /// one's network endpoint down meanwhile). An unhealthy one is removed once its
    /// replacement is healthy.
    func heal(_ step: PlanStep) async -> StepOutcome {
        guard let spec else { return .failed("no desired spec for \(step.service)") }
        let ids = step.instances ?? []
        let until = deadline(spec)
        let errors = await withTaskGroup(of: String?.self) { group in
            for id in ids {
                let old = instance(id, service: step.service)
                group.addTask {
                    if old.state == .exited {
                        switch await launch(spec, commit: commit) {
                        case .failure(let failure):
                            let removal = await stop(old, grace: spec.stopGracePeriod)
                            return ([failure.reason] + [removal].compactMap { $0 }).joined(separator: "; ")
                        case .success(let replacement):
                            await executor.locks.noteReplaced(old.id, by: replacement.id)
                            async let removal = stop(old, grace: spec.stopGracePeriod)
                            let healthy = await awaitHealthy(replacement, spec: spec, until: until)
                            let errors = [healthy.failure, await removal].compactMap { $0 }
                            return errors.isEmpty ? nil : errors.joined(separator: "; ")
                        }
                    }
                    let replacement = await startHealthy(spec, until: until)
                    if let failure = replacement.failure { return "could not replace \(shortID(id)): \(failure)" }
                    return await stop(old, grace: spec.stopGracePeriod)
                }
            }
            var out: [String] = []
            for await e in group { if let e { out.append(e) } }
            return out.sorted()
        }
        return errors.isEmpty ? .succeeded : .failed(errors.joined(separator: "; "))
    }
}
