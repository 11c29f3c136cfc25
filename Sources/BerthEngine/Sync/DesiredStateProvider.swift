public import BerthCore
public import BerthGit

/// Where the loop gets desired state from: the tip of a ref, fetched anew on each call.
public protocol DesiredStateProvider: Sendable {
    /// Fetches (for a remote) and reads the desired state at the ref's current commit.
    /// Throws when git cannot be read (unreachable remote, unknown ref); invalid manifests
    /// are not an error here: they come back as diagnostics.
    func fetch() async throws -> DesiredState

    /// The desired state at `commit` (no fetch): how a restarted watch whose newest commit
    /// is invalid finds the last good one it applied before.
    func desiredState(at commit: String) async throws -> DesiredState
}

extension DesiredStateProvider {
    public func desiredState(at commit: String) async throws -> DesiredState {
        throw DesiredStateSourceError("this source cannot read an older commit")
    }
}

/// `DesiredStateProvider` over git: `open` gives the repository (for a remote: mirrors it,
/// which fetches), then the desired state at `ref` is read from its tree. Parsed files are
/// cached by blob id across fetches.
public struct GitDesiredStateProvider: DesiredStateProvider {
    public let open: @Sendable () async throws -> GitRepository
    public let ref: String
    public let path: String?
    public let cache: ManifestParseCache

    public init(ref: String, path: String?, cache: ManifestParseCache = ManifestParseCache(), open: @escaping @Sendable () async throws -> GitRepository) {
        self.open = open
        self.ref = ref
        self.path = path
        self.cache = cache
    }

    public func fetch() async throws -> DesiredState {
        let source = GitDesiredStateSource(repository: try await open(), cache: cache)
        return try await source.desiredState(revision: ref, path: path)
    }

    public func desiredState(at commit: String) async throws -> DesiredState {
        let source = GitDesiredStateSource(repository: try await open(), cache: cache)
        return try await source.desiredState(revision: commit, path: path)
    }
}

/// A desired state read before the pipeline was made: `berth apply` reads and checks it
/// before it connects to the runtime, so manifest errors are reported with no engine.
public struct ReadDesiredState: DesiredStateProvider {
    public let desired: DesiredState
    public init(_ desired: DesiredState) { self.desired = desired }
    public func fetch() async throws -> DesiredState { desired }
}
