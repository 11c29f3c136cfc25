public import BerthCore
public import BerthGit
import Synchronization

/// Where the loop gets desired state from: the tip of a ref, fetched anew on each call.
public protocol DesiredStateProvider: Sendable {
    /// Fetches (for a remote) and reads the desired state at the ref's current commit.
    /// Throws when git cannot be read (unreachable remote, unknown ref); invalid manifests
    /// are not an error here: they come back as diagnostics.
    func fetch() async throws -> DesiredState

    /// The desired state at `commit` (no fetch): how a restarted watch whose newest commit
    /// is invalid finds the last good one it applied before.
    func desiredState(at commit: String) async throws -> DesiredState

    /// Whether `ancestor` is in the history of `commit` (both as `fetch` gave them), read
    /// from what the last fetch brought, with no fetch of its own: how watch tells a
    /// rewritten history (a force-push, a branch reset) from a fast-forward. Nil when this
    /// source cannot say.
    func isAncestor(_ ancestor: String, of commit: String) async throws -> Bool?
}

extension DesiredStateProvider {
    public func desiredState(at commit: String) async throws -> DesiredState {
        throw DesiredStateSourceError("this source cannot read an older commit")
    }

    public func isAncestor(_ ancestor: String, of commit: String) async throws -> Bool? { nil }
}

/// `DesiredStateProvider` over git: `open` gives the repository (for a remote: mirrors it,
/// which fetches), then the desired state at `ref` is read from its tree. Parsed files are
/// cached by blob id across fetches.
public struct GitDesiredStateProvider: DesiredStateProvider {
    public let open: @Sendable () async throws -> GitRepository
    public let ref: String
    public let path: String?
    public let cache: ManifestParseCache
    /// The repository the last `fetch` opened (the ancestry check reads it, not fetching again).
    let opened = OpenedRepository()

    public init(ref: String, path: String?, cache: ManifestParseCache = ManifestParseCache(), open: @escaping @Sendable () async throws -> GitRepository) {
        self.open = open
        self.ref = ref
        self.path = path
        self.cache = cache
    }

    public func fetch() async throws -> DesiredState {
        let repository = try await open()
        opened.value.withLock { $0 = repository }
        let source = GitDesiredStateSource(repository: repository, cache: cache)
        return try await source.desiredState(revision: ref, path: path)
    }

    public func isAncestor(_ ancestor: String, of commit: String) async throws -> Bool? {
        guard let repository = opened.value.withLock({ $0 }), let old = ObjectID(hex: ancestor), let new = ObjectID(hex: commit)
        else { return nil }
        return try await repository.isAncestor(old, of: new)
    }

    public func desiredState(at commit: String) async throws -> DesiredState {
        let source = GitDesiredStateSource(repository: try await open(), cache: cache)
        return try await source.desiredState(revision: commit, path: path)
    }
}

/// The repository a provider opened last (a class: a `Mutex` cannot be copied with a struct).
final class OpenedRepository: Sendable {
    let value = Mutex<GitRepository?>(nil)
}

/// A desired state read before the pipeline was made: `berth apply` reads and checks it
/// before it connects to the runtime, so manifest errors are reported with no engine.
public struct ReadDesiredState: DesiredStateProvider {
    public let desired: DesiredState
    public init(_ desired: DesiredState) { self.desired = desired }
    public func fetch() async throws -> DesiredState { desired }
}
