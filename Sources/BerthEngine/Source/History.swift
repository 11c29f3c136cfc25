public import BerthCore
public import BerthGit

/// One commit that changed the desired state: who, when, why, and what.
public struct HistoryEntry: Sendable, Hashable {
    public var commit: Commit
    public var changes: [ServiceChange]
    /// Errors (and warnings) in the manifest files this commit wrote: the commit is shown
    /// with them, and the walk goes on.
    public var diagnostics: [Diagnostic]
}

extension GitDesiredStateSource {
    /// Every commit reachable from `start` that changed the desired state (of `service`,
    /// when given), newest first. The walk compares each commit's manifests tree id with its
    /// first parent's before anything else, reads only the blobs that changed, and parses
    /// only those that can matter (for one service: blobs that mention its name). Services
    /// are identified by name, so one is followed across file moves and renames.
    public func history(from start: ObjectID, path: String, service: String? = nil, since: Int64? = nil, limit: Int? = nil) async throws -> [HistoryEntry] {
        let steps = try await repository.pathHistory(from: start, path: path, since: since)
        // Relevance filter for one service: a blob that declares it must spell its name
        // (aliases repeat the anchored text; only escapes could hide it).
        var relevance: [ObjectID: Bool] = [:]
        if let service {
            let needle = Array(service.utf8)
            var ids: [ObjectID] = []
            for step in steps {
                for change in step.changes where Self.isManifest(change.path) {
                    if let id = change.old { ids.append(id) }
                    if let id = change.new { ids.append(id) }
                }
            }
            let unique = Array(Set(ids))
            // Read in batches to bound memory.
            var index = 0
            while index < unique.count {
                let batch = Array(unique[index..<min(index + 2048, unique.count)])
                let blobs = try await repository.blobs(batch)
                for (id, bytes) in blobs { relevance[id] = Self.mentions(bytes, needle) }
                index += batch.count
            }
        }
        func relevant(_ id: ObjectID?) -> Bool {
            guard let id else { return false }
            return service == nil || relevance[id] == true
        }

        // Oldest first, so that a file broken in one commit is compared, once fixed, with
        // its last good version rather than with its broken one.
        var lastGood: [String: FileManifests] = [:]
        var entries: [HistoryEntry] = []
        for step in steps.reversed() {
            let changes = step.changes.filter { Self.isManifest($0.path) && (relevant($0.old) || relevant($0.new)) }
            if changes.isEmpty { continue }
            var oldFiles = try await fileManifests(changes.compactMap { c in relevant(c.old) ? (c.path, c.old!) : nil })
            let newFiles = try await fileManifests(changes.compactMap { c in relevant(c.new) ? (c.path, c.new!) : nil })
            oldFiles = oldFiles.map { file in
                file.diagnostics.hasErrors ? (lastGood[file.path] ?? file) : file
            }
            var diff = DesiredStateDiff(changedFrom: oldFiles, changedTo: newFiles)
            if let service { diff = diff.only(service) }
            var diagnostics = newFiles.flatMap(\.diagnostics).filter { $0.severity == .error }.sorted()
            if let service {
                // Only errors in files that mention the service.
                diagnostics = diagnostics.filter { d in changes.contains { $0.path == d.file && relevant($0.new) } }
                _ = service
            }
            for file in newFiles where !file.diagnostics.hasErrors { lastGood[file.path] = file }
            if diagnostics.hasErrors { diff = DesiredStateDiff() }
            guard !diff.isEmpty || !diagnostics.isEmpty else { continue }
            entries.append(HistoryEntry(commit: step.commit, changes: diff.changes, diagnostics: diagnostics))
        }
        entries.reverse()
        if let limit, entries.count > limit { entries = Array(entries.prefix(limit)) }
        return entries
    }

    static func mentions(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        if bytes.contains(UInt8(ascii: "\\")) { return true }
        guard !needle.isEmpty, bytes.count >= needle.count else { return needle.isEmpty }
        let first = needle[0]
        var i = 0
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var j = 1
                while j < needle.count && bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }
}
