public import BerthCore
import Logging

/// Images: pulled before a service's instances are started (and before any old one is
/// stopped), with credentials from `RegistryCredentials`; the digest of what runs is
/// recorded on each container (`berth.image-digest`).
extension DockerRuntime {
    public func prepareImage(
        _ spec: ServiceSpec, always: Bool, progress: @escaping @Sendable (String) -> Void
    ) async throws -> String? {
        // The secrets first: a missing or wrong key fails the step before anything stops.
        _ = try await secretValues(for: spec)
        let image = spec.image
        if !always, let present = try await inspectImageIfPresent(image) {
            return Self.digest(of: present, reference: image)
        }
        let lookup = credentials.lookup(image: image)
        if let note = lookup.note { logger.debug("registry credentials", metadata: ["registry.note": "\(note)"]) }
        do {
            _ = try await client.pullImage(image, credential: lookup.credential, progress: progress)
        } catch var error as DockerError {
            if let note = lookup.note { error.message += " (\(note))" }
            throw error
        }
        guard let pulled = try await inspectImageIfPresent(image) else {
            throw DockerError(.pullFailed, "pulling image \(image): the engine reported success, yet has no such image")
        }
        return Self.digest(of: pulled, reference: image)
    }

    /// What the engine runs for `reference`: `repo@sha256:…` from the image's RepoDigests
    /// (the one of `reference`'s repository), else its id (`sha256:…`: built or loaded
    /// here, never pulled).
    static func digest(of image: Engine.Image, reference: String) -> String {
        let repository = DockerClient.splitReference(reference).name.split(separator: "@").first.map(String.init) ?? reference
        let digests = image.RepoDigests ?? []
        if let match = digests.first(where: { $0.hasPrefix(repository + "@") }) { return match }
        if let pinned = reference.split(separator: "@").last, reference.contains("@") { return "\(repository)@\(pinned)" }
        return digests.sorted().first ?? image.Id
    }

    func inspectImageIfPresent(_ reference: String) async throws -> Engine.Image? {
        do { return try await client.inspectImage(reference) } catch let error as DockerError where error.code == .notFound {
            return nil
        }
    }
}
