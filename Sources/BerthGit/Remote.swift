internal import CGit2
import Foundation
import Dispatch

/// Credentials for fetching remotes, taken from the environment:
/// https — `BERTH_GIT_TOKEN` (user `x-access-token`, or `BERTH_GIT_USERNAME`), or
/// `BERTH_GIT_USERNAME` + `BERTH_GIT_PASSWORD`; ssh — `BERTH_GIT_SSH_KEY` (a private key
/// file, with `BERTH_GIT_SSH_PASSPHRASE` if it has one), else the ssh agent.
public struct GitCredentials: Sendable, Hashable {
    public var token: String?
    public var username: String?
    public var password: String?
    public var sshKeyPath: String?
    public var sshPassphrase: String?

    public init(token: String? = nil, username: String? = nil, password: String? = nil, sshKeyPath: String? = nil, sshPassphrase: String? = nil) {
        self.token = token
        self.username = username
        self.password = password
        self.sshKeyPath = sshKeyPath
        self.sshPassphrase = sshPassphrase
    }

    public init(environment: [String: String]) {
        func value(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        self.init(
            token: value("BERTH_GIT_TOKEN"), username: value("BERTH_GIT_USERNAME"),
            password: value("BERTH_GIT_PASSWORD"), sshKeyPath: value("BERTH_GIT_SSH_KEY"),
            sshPassphrase: value("BERTH_GIT_SSH_PASSPHRASE"))
    }

    /// The secret values, for scrubbing them out of any text that may be shown.
    var secrets: [String] { [token, password, sshPassphrase].compactMap { $0 } }
}

/// Passed to libgit2's credential callback; counts attempts so that rejected credentials
/// end in an authentication error instead of an endless retry loop.
private final class CredentialState {
    let credentials: GitCredentials
    var attempts = 0
    init(_ credentials: GitCredentials) { self.credentials = credentials }
}

private let acquireCredential: git_credential_acquire_cb = { out, _, usernameFromURL, allowed, payload in
    guard let out, let payload else { return GIT_PASSTHROUGH.rawValue }
    let state = Unmanaged<CredentialState>.fromOpaque(payload).takeUnretainedValue()
    state.attempts += 1
    if state.attempts > 3 {
        git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "authentication failed: the server rejected the credentials")
        return GIT_EAUTH.rawValue
    }
    let c = state.credentials
    let urlUser = usernameFromURL.map { String(cString: $0) }
    if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 {
        if let token = c.token {
            return git_credential_userpass_plaintext_new(out, c.username ?? "x-access-token", token)
        }
        if let user = c.username ?? urlUser, let password = c.password {
            return git_credential_userpass_plaintext_new(out, user, password)
        }
    }
    let sshUser = urlUser ?? c.username ?? "git"
    if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
        if let key = c.sshKeyPath {
            return git_credential_ssh_key_new(out, sshUser, nil, key, c.sshPassphrase)
        }
        if state.attempts == 1 { return git_credential_ssh_key_from_agent(out, sshUser) }
    }
    if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
        return git_credential_username_new(out, sshUser)
    }
    git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "authentication required: no usable credentials (set BERTH_GIT_TOKEN, or BERTH_GIT_SSH_KEY for ssh)")
    return GIT_EAUTH.rawValue
}

extension GitRepository {
    /// Whether `location` names a remote (a URL, or scp-like `user@host:path`) rather than a
    /// local folder.
    public static func isRemote(_ location: String) -> Bool {
        if location.contains("://") { return true }
        if location.hasPrefix("/") || location.hasPrefix(".") { return false }
        // scp-like: user@host:path (a colon before any slash).
        if let colon = location.firstIndex(of: ":"), !location[..<colon].contains("/"), location.contains("@") { return true }
        return false
    }

    /// The folder that caches `url`'s bare mirror under `cacheRoot`: a hash of the URL with
    /// any credentials removed, so the same repository fetched with other credentials shares
    /// the cache, and no secret ends up in a file name.
    public static func mirrorDirectory(for url: String, cacheRoot: String) -> String {
        let scrubbed = Scrubber.scrubURLUserInfo(url)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in scrubbed.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        let name = String(repeating: "0", count: 16 - hex.count) + hex
        return (cacheRoot.hasSuffix("/") ? cacheRoot : cacheRoot + "/") + name + ".git"
    }

    /// Mirrors `url` (all branches and tags, pruned) into a bare repository at `directory`,
    /// creating it on first use and fetching on every call; HEAD follows the remote's
    /// default branch. Credentials and any user information in `url` never appear in
    /// errors: the URL is scrubbed and secret values are replaced by `***`.
    public static func mirror(url: String, into directory: String, credentials: GitCredentials) async throws(GitError) -> GitRepository {
        let executor = GitQueueExecutor(label: "berth.git")
        let result: Result<GitRepository, GitError> = await withCheckedContinuation { continuation in
            executor.queue.async {
                do throws(GitError) {
                    let repository = try fetchMirror(url: url, directory: directory, credentials: credentials)
                    continuation.resume(returning: .success(
                        GitRepository(repository: repository, executor: executor, displayName: Scrubber.scrubURLUserInfo(url))))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    private static func fetchMirror(url: String, directory: String, credentials: GitCredentials) throws(GitError) -> Repository {
        Libgit2.ensureInitialised()
        let scrub = Scrubber(secrets: credentials.secrets + urlSecrets(url))
        let shown = scrub.apply(url)
        var repoPointer: OpaquePointer?
        var rc = git_repository_open_ext(&repoPointer, directory, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue | GIT_REPOSITORY_OPEN_BARE.rawValue, nil)
        if rc == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            rc = git_repository_init(&repoPointer, directory, 1)
            try check(rc, "create mirror cache", directory, scrub: scrub)
        } else {
            try check(rc, "open mirror cache", directory, scrub: scrub)
        }
        Libgit2.configure(repoPointer!)
        let repository = Repository(handle: RepositoryHandle(repoPointer!), displayName: shown)

        var remotePointer: OpaquePointer?
        try check(git_remote_create_anonymous(&remotePointer, repository.pointer, url), "use remote", shown, scrub: scrub)
        let remote = RemoteHandle(remotePointer!)

        let state = CredentialState(credentials)
        let payload = Unmanaged.passUnretained(state).toOpaque()
        var options = git_fetch_options()
        git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
        options.prune = GIT_FETCH_PRUNE
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL
        options.callbacks.credentials = acquireCredential
        options.callbacks.payload = payload

        let specs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
        var cStrings = specs.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        rc = cStrings.withUnsafeMutableBufferPointer { buffer in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return git_remote_fetch(remote.pointer, &array, &options, "berth: fetch")
        }
        withExtendedLifetime(state) {}
        if rc < 0 {
            var error = lastError(rc, "fetch", shown, scrub: scrub)
            if error.code == .generic, error.libgit2Message.contains("authentication") || error.libgit2Message.contains("401") {
                error.code = .auth
            } else if error.code == .generic {
                error.code = .network
            }
            if error.hint.isEmpty { error.hint = error.code.defaultHint }
            throw error
        }

        // HEAD follows the remote's default branch.
        var buffer = git_buf()
        if git_remote_default_branch(&buffer, remote.pointer) == 0, let raw = buffer.ptr {
            let branch = String(cString: raw)
            git_buf_dispose(&buffer)
            _ = git_repository_set_head(repository.pointer, branch)
        } else {
            git_error_clear()
        }
        git_error_clear()
        return repository
    }

    /// The password part of `scheme://user:password@host/…`, to scrub it wherever it appears.
    static func urlSecrets(_ url: String) -> [String] {
        guard let scheme = url.range(of: "://") else { return [] }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        guard let at = authority.lastIndex(of: "@") else { return [] }
        let info = authority[..<at]
        guard let colon = info.firstIndex(of: ":") else { return [] }
        return [String(info[info.index(after: colon)...])]
    }
}
