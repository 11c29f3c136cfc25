import ArgumentParser
import BerthCore
import BerthEngine
import BerthGit
import Foundation

/// Turning `--repo/--ref/--path` into a repository, a commit and a manifests path.
///
/// A remote (`https://`, `ssh://`, `file://`, `user@host:path`) is mirrored (bare) into
/// `<cache>/repos/<hash of the URL without credentials>.git` and fetched on each run; history
/// walks keep a per-commit index beside it, in `<cache>/history/`. The cache folder is
/// `$BERTH_CACHE_DIR`, else the state folder `$BERTH_STATE_DIR` (where the cache always was
/// when that variable was set: it named the cache before), else `$XDG_CACHE_HOME/berth`,
/// else `~/.cache/berth` — never a project's state folder by default.
extension SourceOptions {
    static func cacheFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let cache = environment["BERTH_CACHE_DIR"], !cache.isEmpty { return cache }
        if let state = environment["BERTH_STATE_DIR"], !state.isEmpty { return state }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/berth" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/berth"
    }

    static func cacheRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        cacheFolder(environment: environment) + "/repos"
    }

    func openRepository() async throws -> GitRepository {
        try await Self.openRepository(repo, environment: ProcessInfo.processInfo.environment)
    }

    /// `--repo` opened: the current directory's repository when nil, else a local path or a
    /// remote, mirrored (and fetched) under the cache root. `berth watch` calls it on every
    /// fetch, so a local repository is opened afresh and new commits are seen.
    static func openRepository(_ repo: String?, environment: [String: String]) async throws -> GitRepository {
        guard let repo else {
            return try GitRepository(path: FileManager.default.currentDirectoryPath, discover: true)
        }
        if GitRepository.isRemote(repo) { PrivateFiles.restrict(Self.cacheFolder(environment: environment)) }
        return try await GitRepository.open(
            location: repo, mirrorCacheRoot: Self.cacheRoot(environment: environment),
            credentials: GitCredentials(environment: environment))
    }

    /// `--repo` opened for reading only, without a fetch: a local repository, or the mirror
    /// of a remote that `berth watch` fetches into (the web UI reads it between fetches).
    static func repositoryForReading(_ repo: String?, environment: [String: String]) throws -> GitRepository {
        guard let repo else { return try GitRepository(path: FileManager.default.currentDirectoryPath, discover: true) }
        guard GitRepository.isRemote(repo) else { return try GitRepository(path: repo, discover: true) }
        return try GitRepository(
            path: GitRepository.mirrorDirectory(for: repo, cacheRoot: cacheRoot(environment: environment)), discover: false)
    }

    func openSource() async throws -> GitDesiredStateSource {
        PrivateFiles.restrict(Self.cacheFolder())
        return GitDesiredStateSource(repository: try await openRepository(), historyIndexRoot: Self.cacheFolder() + "/history")
    }
}

/// Prints to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Runs `body`; a git or source error is printed as `error: …` and exits 1.
func withSourceErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as GitError {
        throw CommandFailure("error: \(error)")
    } catch let error as DesiredStateSourceError {
        throw CommandFailure("error: \(error)")
    }
}

/// JSON with sorted keys and `formatVersion: 1`, as every Berth document.
func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
