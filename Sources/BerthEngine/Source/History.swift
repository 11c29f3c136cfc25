public import BerthCore
public import BerthGit

/// One commit that changed the desired state: who, when, why, and what.
public struct HistoryEntry: Sendable, Hashable {
    public var commit: Commit
    public var changes: [ServiceChange]
    /// Errors in the manifest files this commit wrote: the commit is shown with them, and
    /// the walk goes on.
    public var diagnostics: [Diagnostic]
}

extension GitDesiredStateSource {
    /// Every commit reachable from `start` that changed the desired state (of `service`,
    /// when given), newest first.
    ///
    /// The walk compares each commit's manifests tree id with its first parent's before
    /// anything else and lists only the files that differ. For one service it then follows
    /// the files that declare the service, by name: a commit that changes none of them is
    /// skipped without reading a blob; when a file stops declaring it, the other files of
    /// that commit are searched, so a service is followed across moves and renames. Only
    /// the blobs of the remaining commits are parsed (each blob once, cached by id).
    /// A second service declared with the same name in another, unchanged file of an older
    /// revision (an invalid state) is not looked for.
    public func history(from start: ObjectID, path: String, service: String? = nil, since: Int64? = nil, limit: Int? = nil) async throws -> [HistoryEntry] {
        var index: PathHistoryIndex? = nil
        if let historyIndexRoot {
            index = PathHistoryIndex.location(root: historyIndexRoot, gitDirectory: await repository.gitDirectory, path: path)
        }
        let steps = try await repository.pathHistory(from: start, path: path, since: since, index: index)
        var relevant: [(step: PathHistoryStep, changes: [TreeChange])] = []
        if let service {
            relevant = try await followService(service, steps: steps, start: start, path: path)
        } else {
            relevant = steps.compactMap { step in
                let changes = step.changes.filter { Self.isManifest($0.path) }
                return changes.isEmpty ? nil : (step, changes)
            }
        }
        // Oldest first over a window of the newest steps (all of them without a limit), so a
        // file broken in one commit is compared, once fixed, with its last good version.
        var window = limit.map { max(16, $0 * 2) } ?? relevant.count
        while true {
            let slice = Array(relevant.prefix(window))
            var entries = try await entriesOldestFirst(slice, service: service)
            entries.reverse()
            if let limit, entries.count >= limit { return Array(entries.prefix(limit)) }
            if slice.count == relevant.count { return entries }
            window *= 4
        }
    }

    private func entriesOldestFirst(_ steps: [(step: PathHistoryStep, changes: [TreeChange])], service: String?) async throws -> [HistoryEntry] {
        var lastGood: [String: FileManifests] = [:]
        var entries: [HistoryEntry] = []
        var shown: [(step: PathHistoryStep, changes: [ServiceChange], diagnostics: [Diagnostic])] = []
        for (step, changes) in steps.reversed() {
            var oldFiles = try await fileManifests(changes.compactMap { c in c.old.map { (c.path, $0) } })
            let newFiles = try await fileManifests(changes.compactMap { c in c.new.map { (c.path, $0) } })
            oldFiles = oldFiles.map { file in file.diagnostics.hasErrors ? (lastGood[file.path] ?? file) : file }
            var diff = DesiredStateDiff(changedFrom: oldFiles, changedTo: newFiles)
            if let service { diff = diff.only(service) }
            let diagnostics = newFiles.flatMap(\.diagnostics).filter { $0.severity == .error }.sorted()
            for file in newFiles where !file.diagnostics.hasErrors { lastGood[file.path] = file }
            if !diagnostics.isEmpty { diff = DesiredStateDiff() }
            guard !diff.isEmpty || !diagnostics.isEmpty else { continue }
            shown.append((step, diff.changes, diagnostics))
        }
        let commits = try await repository.commits(shown.map(\.step.id))
        for item in shown {
            entries.append(HistoryEntry(commit: commits[item.step.id]!, changes: item.changes, diagnostics: item.diagnostics))
        }
        return entries
    }

    /// Newest first: the steps that may change `service`, each with the changed files that
    /// matter (those that declare it on either side, or mention it while broken).
    private func followService(_ service: String, steps: [PathHistoryStep], start: ObjectID, path: String) async throws -> [(step: PathHistoryStep, changes: [TreeChange])] {
        let needle = Array(service.utf8)
        var declares: [ObjectID: Bool] = [:]
        /// Whether each blob declares the service (or mentions it and fails to parse).
        func classify(_ files: [(path: String, id: ObjectID)]) async throws {
            let unknown = files.filter { declares[$0.id] == nil }
            guard !unknown.isEmpty else { return }
            let blobs = try await repository.blobs(unknown.map(\.id))
            var candidates: [(path: String, id: ObjectID)] = []
            for file in unknown {
                if Self.mayDeclare(blobs[file.id] ?? [], needle) { candidates.append(file) } else { declares[file.id] = false }
            }
            let parsed = try await fileManifests(candidates)
            for (file, manifests) in zip(candidates, parsed) {
                declares[file.id] = manifests.declared.contains { $0.name == service }
                    || (manifests.diagnostics.hasErrors && manifests.declared.isEmpty && Self.mentions(blobs[file.id] ?? [], needle))
            }
        }
        var trackedByTree: [ObjectID: Set<String>] = [:]
        func tracked(_ tree: ObjectID?) async throws -> Set<String> {
            guard let tree else { return [] }
            if let known = trackedByTree[tree] { return known }
            let files = try await repository.files(under: tree, prefix: path).filter { Self.isManifest($0.path) }
            try await classify(files.map { ($0.path, $0.id) })
            let set = Set(files.filter { declares[$0.id] == true }.map(\.path))
            trackedByTree[tree] = set
            return set
        }

        var out: [(step: PathHistoryStep, changes: [TreeChange])] = []
        for step in steps {
            let current = try await tracked(step.tree)
            let manifests = step.changes.filter { Self.isManifest($0.path) }
            var relevant = manifests.filter { current.contains($0.path) }
            var parentSet = current.subtracting(relevant.map(\.path))
            if !relevant.isEmpty {
                try await classify(relevant.compactMap { c in c.old.map { (c.path, $0) } })
                for change in relevant { if let old = change.old, declares[old] == true { parentSet.insert(change.path) } }
            }
            if current.isEmpty || parentSet.count < current.count {
                // The service was not here, or left a file: look in the other changed files.
                let others = manifests.filter { !current.contains($0.path) }
                try await classify(others.compactMap { c in c.old.map { (c.path, $0) } })
                for change in others {
                    if let old = change.old, declares[old] == true {
                        parentSet.insert(change.path)
                        relevant.append(change)
                    }
                }
            }
            if let parentTree = step.parentTree, trackedByTree[parentTree] == nil { trackedByTree[parentTree] = parentSet }
            if !relevant.isEmpty { out.append((step, relevant.sorted { $0.path < $1.path })) }
        }
        return out
    }

    /// Whether the blob `bytes` may declare a service named by `needle` (its UTF-8): false
    /// only when it certainly does not, so the blob need not be parsed.
    ///
    /// Why a byte search is sound. A service's name is a scalar's text taken verbatim. In a
    /// blob of printable ASCII without a backslash, the text of a scalar is a run of the
    /// blob's bytes except where YAML rewrites it: a line break folded into a space or a
    /// newline (multi-line plain, quoted and folded scalars), `''` read as `'` in a single-
    /// quoted scalar, and leading indentation dropped on a new line (which comes with a
    /// break). Escapes (`\x2d`, `\u0077`) need a backslash. Anchors and aliases repeat a
    /// node that is itself written in the blob, tags do not change the text, and a merge key
    /// copies a mapping written in the blob. So when the name has no space, quote or control
    /// character, a scalar equal to it is a run of the blob's bytes equal to it. Anything
    /// else is parsed: a name outside printable ASCII (Swift compares strings by canonical
    /// equivalence: U+212A KELVIN SIGN equals "K"), and a blob with a byte outside printable
    /// ASCII and line breaks (a BOM, UTF-16, UTF-8 text, NUL) or with a backslash.
    static func mayDeclare(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "'") }) else { return true }
        return bytes.withUnsafeBufferPointer { b in
            // One pass: anything that would make the search unsound, then the search.
            for byte in b where byte >= 0x7F || byte == UInt8(ascii: "\\") || (byte < 0x20 && byte != 0x0A && byte != 0x0D && byte != 0x09) {
                return true
            }
            guard b.count >= needle.count else { return false }
            let first = needle[0], n = needle.count
            var i = 0
            let last = b.count - n
            while i <= last {
                if b[i] == first {
                    var j = 1
                    while j < n && b[i + j] == needle[j] { j += 1 }
                    if j == n { return true }
                }
                i += 1
            }
            return false
        }
    }

    /// Whether a broken blob (one that declares nothing) counts for the service: it holds the
    /// name's bytes, or a backslash (the name may be escaped).
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
