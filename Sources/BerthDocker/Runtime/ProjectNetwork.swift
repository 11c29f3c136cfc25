import BerthCore
import Logging

/// The project network, `berth-<project>` labelled `berth.project`, found or made so that a
/// race can never leave two.
///
/// dockerd's `CheckDuplicate` is best effort: two processes that create the same name at the
/// same moment both succeed, and every later use of the name fails as ambiguous. So the
/// network is looked up by label, created only when none exists, and looked up again; when
/// there are several (that race, or one an older Berth lost), one is kept by a rule every
/// process applies alike — the one with containers (the most), then the lowest id — and the
/// empty others are removed. Containers join it by name, or by id while a duplicate that
/// still has containers makes the name ambiguous.
extension DockerRuntime {
    /// How containers name the project network: its name, or the kept one's id.
    func ensureProjectNetwork(_ project: String) async throws -> String {
        let name = BerthNaming.network(project: project)
        if let found = try await keptNetwork(project: project, name: name) { return found }
        do {
            _ = try await client.createNetwork(name: name, labels: [BerthLabel.project: project])
            logger.debug("created network", metadata: ["docker.network": "\(name)"])
        } catch let error as DockerError where error.code == .conflict {
            // Made meanwhile by another process: found below.
        }
        guard let kept = try await keptNetwork(project: project, name: name) else {
            throw DockerError(.notFound, "creating network \(name): created, but no network with that name and the label berth.project=\(project) can be found; is another program removing it?")
        }
        return kept
    }

    /// The network to use among those named `name` with the project's label (nil: none),
    /// as containers should name it; the empty others are removed.
    private func keptNetwork(project: String, name: String) async throws -> String? {
        let candidates = try await client.listNetworks(labels: [BerthLabel.project: project]).filter { $0.Name == name }
        guard candidates.count > 1 else { return candidates.isEmpty ? nil : name }
        // The list leaves out attached containers: inspect each.
        var inUse: [String: Int] = [:]
        for network in candidates {
            inUse[network.Id] = (try? await client.inspectNetwork(network.Id))?.Containers?.count ?? 0
        }
        let ordered = candidates.map(\.Id).sorted { (-(inUse[$0] ?? 0), $0) < (-(inUse[$1] ?? 0), $1) }
        let kept = ordered[0]
        var ambiguous = false
        for other in ordered.dropFirst() {
            if (inUse[other] ?? 0) > 0 {
                ambiguous = true
                logger.warning(
                    "two networks named \(name) both have containers; keeping \(kept.prefix(12)). Remove the containers of \(other.prefix(12)) (a later apply replaces them), then the network",
                    metadata: ["docker.network": "\(other)"])
                continue
            }
            do {
                try await client.removeNetwork(other)
                logger.info("removed a duplicate project network", metadata: ["docker.network": "\(other)", "kept": "\(kept)"])
            } catch let error as DockerError where error.code == .notFound {
            } catch {
                ambiguous = true
                logger.warning("could not remove a duplicate project network", metadata: ["docker.network": "\(other)", "error": "\(error)"])
            }
        }
        return ambiguous ? kept : name
    }

    /// Removes every network of the project (by label and by name).
    func removeProjectNetworks(_ project: String) async throws {
        let name = BerthNaming.network(project: project)
        let labelled = try await client.listNetworks(labels: [BerthLabel.project: project]).filter { $0.Name == name }
        for network in labelled.map(\.Id).sorted() { try await removeNetwork(network, name: name) }
        if labelled.isEmpty { try await removeNetwork(name, name: name) }
    }

    /// Removes a project network. dockerd can still count an endpoint of a container it has
    /// just removed ("network … has active endpoints", HTTP 403): the removal is asked again
    /// for up to 2 s. Its endpoint count can also stay wrong for good (a dockerd bug, seen
    /// after ten containers were force-removed at once): when no container is attached any
    /// more, the empty network is left with a warning instead of failing the caller.
    private func removeNetwork(_ network: String, name: String) async throws {
        func stale(_ error: DockerError) -> Bool {
            error.status == 403 && (error.engineMessage ?? error.message).contains("active endpoints")
        }
        for attempt in 1... {
            do {
                return try await client.removeNetwork(network)
            } catch let error as DockerError where error.code == .notFound {
                return
            } catch let error as DockerError where stale(error) && attempt < 20 {
                try await Task.sleep(for: .milliseconds(100))
            } catch let error as DockerError where stale(error) {
                guard (try? await client.inspectNetwork(network))?.Containers?.isEmpty ?? false else { throw error }
                logger.warning(
                    "dockerd still counts an endpoint on network \(name) although no container is attached (a dockerd bug; restarting dockerd clears it): the empty network is left",
                    metadata: ["docker.network": "\(name)"])
                return
            }
        }
    }
}
