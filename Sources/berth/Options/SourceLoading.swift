import ArgumentParser
import BerthCore
import BerthEngine
import BerthGit
import Foundation

/// Turning `--repo/--ref/--path` into a repository, a commit and a manifests path.
///
/// A remote (`https://`, `ssh://`, `file://`, `user@host:path`) is mirrored (bare) into
/// `$BERTH_STATE_DIR/repos/<hash of the URL without credentials>.git`, by default
/// `~/.cache/berth/repos/…` (`$XDG_CACHE_HOME/berth/repos` when set), and fetched on each run.
/// History walks keep a per-commit index beside it, in `…/history/`.
extension SourceOptions {
    static func stateRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let state = environment["BERTH_STATE_DIR"], !state.isEmpty { return state }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/berth" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/berth"
    }

    static func cacheRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        stateRoot(environment: environment) + "/repos"
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
        if GitRepository.isRemote(repo) { PrivateFiles.restrict(Self.stateRoot(environment: environment)) }
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
        PrivateFiles.restrict(Self.stateRoot())
        return GitDesiredStateSource(repository: try await openRepository(), historyIndexRoot: Self.stateRoot() + "/history")
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
        printError("error: \(error)")
        throw ExitCode(ExitStatus.failure)
    } catch let error as DesiredStateSourceError {
        printError("error: \(error)")
        throw ExitCode(ExitStatus.failure)
    }
}

/// JSON with sorted keys and `formatVersion: 1`, as every Berth document.
func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
