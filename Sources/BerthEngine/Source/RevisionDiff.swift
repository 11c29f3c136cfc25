public import BerthCore
public import BerthGit

/// The desired-state difference between two commits, computed from the files that differ.
public struct RevisionDiff: Sendable {
    public var from: ObjectID
    public var to: ObjectID
    public var path: String
    public var diff: DesiredStateDiff
    /// Problems in the changed files (both sides), sorted; the diff is unreliable when any
    /// is an error.
    public var diagnostics: [Diagnostic]
    /// How many manifest files differ (0 when the manifests trees are identical).
    public var changedFiles: Int
}

extension GitDesiredStateSource {
    /// Compares the desired state at two commits. Fast path: identical manifests tree ids
    /// mean no change, without reading anything else. Otherwise only the blobs that differ
    /// are read and parsed (services in unchanged files are equal on both sides).
    public func diff(from: ObjectID, to: ObjectID, path: String) async throws -> RevisionDiff {
        let oldTree = try await tree(at: path, in: from)
        let newTree = try await tree(at: path, in: to)
        let oldSecrets = try await tree(at: "secrets", in: from)
        let newSecrets = try await tree(at: "secrets", in: to)
        guard oldTree != newTree || oldSecrets != newSecrets else {
            return RevisionDiff(from: from, to: to, path: path, diff: DesiredStateDiff(), diagnostics: [], changedFiles: 0)
        }
        let changes = try await repository.changes(from: oldTree, to: newTree, prefix: path)
            .filter { Self.isManifest($0.path) }
        if oldSecrets != newSecrets {
            // An encrypted secret changed: the services that use it changed too ("secret
            // changed", by the file's id), which only the whole desired states show.
            let secretChanges = try await repository.changes(from: oldSecrets, to: newSecrets, prefix: "secrets")
            let a = try await desiredState(at: from, path: path), b = try await desiredState(at: to, path: path)
            return RevisionDiff(
                from: from, to: to, path: path, diff: DesiredStateDiff(from: a.services, to: b.services),
                diagnostics: Array(Set(a.diagnostics + b.diagnostics)).sorted(), changedFiles: changes.count + secretChanges.count)
        }
        // Both sides in one batch: one hop for the blobs, one parallel parse.
        let oldRefs = changes.compactMap { c in c.old.map { (path: c.path, id: $0) } }
        let newRefs = changes.compactMap { c in c.new.map { (path: c.path, id: $0) } }
        let both = try await fileManifests(oldRefs + newRefs)
        let oldFiles = Array(both.prefix(oldRefs.count)), newFiles = Array(both.dropFirst(oldRefs.count))
        let diff = DesiredStateDiff(changedFrom: oldFiles, changedTo: newFiles)
        let diagnostics = Array(Set(oldFiles.flatMap(\.diagnostics) + newFiles.flatMap(\.diagnostics))).sorted()
        return RevisionDiff(from: from, to: to, path: path, diff: diff, diagnostics: diagnostics, changedFiles: changes.count)
    }
}

extension RevisionDiff {
    /// `berth diff`'s text (also the web UI's plan page): the field changes, then the counts
    /// and the range `from..to`.
    public var text: String { DiffText.text(diff, range: "\(from.short)..\(to.short)") }
}
