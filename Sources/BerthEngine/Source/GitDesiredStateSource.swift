public import BerthCore
public import BerthGit

/// A problem reading desired state from git that is not libgit2's: a path that is not there.
public struct DesiredStateSourceError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Desired state read from the tree of a commit (never the working copy): every `*.yaml` /
/// `*.yml` blob under the manifests path, recursively, hidden folders skipped. Parsed files
/// are cached by blob id, so a newer commit re-parses only the files that changed.
public struct GitDesiredStateSource: Sendable {
    public let repository: GitRepository
    public let cache: ManifestParseCache
    /// Where history walks keep their per-commit index (nil: none, every walk reads trees).
    public let historyIndexRoot: String?

    public init(repository: GitRepository, cache: ManifestParseCache = ManifestParseCache(), historyIndexRoot: String? = nil) {
        self.repository = repository
        self.cache = cache
        self.historyIndexRoot = historyIndexRoot
    }

    public static func isManifest(_ path: String) -> Bool { path.hasSuffix(".yaml") || path.hasSuffix(".yml") }

    /// `requested` normalised when given (an error naming the path and revision when it is
    /// not a folder at `commit`); else `manifests` if that folder exists at `commit`, else
    /// the root ("").
    public func manifestsPath(at commit: ObjectID, requested: String?, revision: String) async throws -> String {
        if let requested {
            let clean = requested.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
            if clean.isEmpty { return "" }
            let entry = try await repository.entry(at: clean, in: commit)
            guard let entry else {
                throw DesiredStateSourceError(
                    "the path \"\(clean)\" does not exist at revision \(revision) (\(commit.short)); check --path, or list the tree with `git ls-tree --name-only \(commit.short)`")
            }
            guard entry.kind == .tree else {
                throw DesiredStateSourceError("the path \"\(clean)\" at revision \(revision) (\(commit.short)) is a file, not a folder; --path names the manifests folder")
            }
            return clean
        }
        if let entry = try await repository.entry(at: "manifests", in: commit), entry.kind == .tree { return "manifests" }
        return ""
    }

    /// The id of the tree at `path` in `commit` (nil when missing).
    public func tree(at path: String, in commit: ObjectID) async throws -> ObjectID? {
        let entry = try await repository.entry(at: path, in: commit)
        return entry?.kind == .tree ? entry?.id : nil
    }

    /// The manifest blobs under `path` at `commit`, sorted by path.
    public func manifestEntries(at commit: ObjectID, path: String) async throws -> [TreeEntry] {
        guard let tree = try await tree(at: path, in: commit) else { return [] }
        return try await repository.files(under: tree, prefix: path).filter { Self.isManifest($0.path) }
    }

    /// Parses (or takes from the cache) the manifest files named by `changes`' or `entries`'
    /// blob ids, reading only the blobs not yet cached.
    public func fileManifests(_ files: [(path: String, id: ObjectID)]) async throws -> [FileManifests] {
        var result = files.map { cache.cached($0.id, path: $0.path) }
        let missing = files.indices.filter { result[$0] == nil }
        if !missing.isEmpty {
            let blobs = try await repository.blobs(missing.map { files[$0].id })
            let parsed = cache.parse(missing.map { (files[$0].path, files[$0].id, blobs[files[$0].id] ?? []) })
            for (i, manifests) in zip(missing, parsed) { result[i] = manifests }
        }
        cache.trim(keeping: files.count)
        return result.map { $0! }
    }

    /// The full desired state at `commit` (cross-file checks included), with `commit` set and
    /// repository-relative paths in diagnostics. This is what `validate --rev` uses.
    public func desiredState(at commit: ObjectID, path: String) async throws -> DesiredState {
        let entries = try await manifestEntries(at: commit, path: path)
        let files = try await fileManifests(entries.map { ($0.path, $0.id) })
        return try await addingSecretVersions(ManifestLoader.assemble(files, commit: commit.hex), commit: commit)
    }

    /// Resolves `revision`, picks the manifests path and loads the desired state there.
    public func desiredState(revision: String, path: String?) async throws -> DesiredState {
        let commit = try await repository.resolve(revision)
        let folder = try await manifestsPath(at: commit, requested: path, revision: revision)
        return try await desiredState(at: commit, path: folder)
    }
}
