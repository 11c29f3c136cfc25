import BerthCore
import Synchronization

/// Before a step starts an instance (create, update, heal, scale up), the service's image
/// is made ready — pulled when the engine lacks it, or on every rollout with `pullPolicy:
/// Always` — so that a pull that fails ("manifest unknown", "unauthorized") fails the step
/// before anything is stopped, and the old replicas keep running. The digest the engine
/// will run is remembered for the step's report and the journal.
extension StepContext {
    /// Whether `step` needs `spec`'s image, and whether it must ask the registry anyway.
    static func imageNeed(_ step: PlanStep, _ spec: ServiceSpec) -> (needed: Bool, always: Bool) {
        let rollout = step.action == .create || step.action == .update
        let needed = rollout || step.startsInstances
        return (needed, rollout && spec.container.pullPolicy == .always)
    }

    /// Nil when the image is ready; else why not, as the step's failure.
    func prepareImage(for step: PlanStep) async -> String? {
        guard let spec else { return nil }
        let (needed, always) = Self.imageNeed(step, spec)
        guard needed else { return nil }
        // Read and checked, but not yet supplied to containers: refused before anything is
        // stopped rather than started without them.
        if !spec.container.envFiles.isEmpty {
            return "env files (envFrom) are validated but not yet applied by this version of Berth; remove them from the manifest for now; nothing was stopped"
        }
        let service = step.service
        do {
            let digest = try await runtime.prepareImage(spec, always: always) { line in
                self.emit(service, .pulling(line))
            }
            if let digest {
                image.set(digest)
                // Said for images from a registry (a local build or load has no repository digest).
                if digest.contains("@") { emit(service, .image(digest)) }
            }
            return nil
        } catch let error as SecretError {
            return "\(error); nothing was stopped"
        } catch {
            // The runtime's error names the image ("pulling image …: manifest unknown").
            let reason = "\(error)"
            return (reason.contains(spec.image) ? reason : "could not pull image \(spec.image): \(reason)") + "; nothing was stopped"
        }
    }
}

/// The image digest a service's steps ran, for their reports.
final class ImageNote: Sendable {
    private let value = Mutex<String?>(nil)
    func set(_ digest: String) { value.withLock { $0 = digest } }
    var digest: String? { value.withLock { $0 } }
}
