internal import CGit2
import Foundation
import Dispatch

/// Credentials for fetching remotes, taken from the environment:
/// https — `BERTH_GIT_TOKEN` (as the password of `BERTH_GIT_USERNAME`, else of the URL's
/// user, else of `x-access-token`), or `BERTH_GIT_USERNAME` + `BERTH_GIT_PASSWORD`; ssh — `BERTH_GIT_SSH_KEY` (a private key
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

/// Why Berth gave up authenticating: a sentence for `GitError.libgit2Message` and a hint
/// that names what to set or check.
struct AuthFailure: Sendable, Hashable {
    var message: String
    var hint: String
}

/// What to answer each time libgit2 asks for credentials, kept apart from the C calls so
/// the decisions can be tested without a server.
///
/// libgit2 asks again each time the server rejects what it was given (over HTTP up to 15
/// times, then fails with "too many redirects or authentication replays"). The same
/// environment gives the same answer, so credentials are offered once: the second request
/// for the same kind means they were rejected, and the planner fails at once with a
/// failure that names their source. Credentials in the URL are presented by libgit2
/// itself, once, before it ever asks; a request that comes with a URL user and nothing in
/// the environment therefore means those were rejected.
struct CredentialPlanner {
    struct Allowed: OptionSet, Sendable {
        let rawValue: UInt32
        static let userPassword = Allowed(rawValue: 1 << 0)
        static let sshKey = Allowed(rawValue: 1 << 1)
        static let username = Allowed(rawValue: 1 << 2)
    }

    enum Answer: Equatable {
        case userPassword(user: String, password: String)
        case sshKey(user: String, path: String, passphrase: String?)
        case sshAgent(user: String)
        case username(String)
        case refuse(AuthFailure)
    }

    static let httpsSetup = "set BERTH_GIT_TOKEN (an access token), or BERTH_GIT_USERNAME and BERTH_GIT_PASSWORD, in berth's environment"

    let credentials: GitCredentials
    /// How many times libgit2 asked.
    private(set) var requests = 0
    /// Set when the planner refused: the reason to report instead of libgit2's words.
    private(set) var failure: AuthFailure?
    private var offeredUserPassword: String?
    private var offeredKey = false
    private var offeredAgent = false

    init(_ credentials: GitCredentials) { self.credentials = credentials }

    mutating func answer(allowed: Allowed, urlUser: String?) -> Answer {
        requests += 1
        let answer = decide(allowed: allowed, urlUser: urlUser)
        if case .refuse(let reason) = answer { failure = reason }
        return answer
    }

    private mutating func decide(allowed: Allowed, urlUser: String?) -> Answer {
        let c = credentials
        // A bound whatever the server does (ssh may ask for a user name, then keys).
        if requests > 6 {
            return .refuse(AuthFailure(
                message: "authentication failed: the server kept rejecting the credentials", hint: Self.httpsSetup))
        }
        if allowed.contains(.userPassword) {
            if let source = offeredUserPassword {
                return .refuse(Self.rejected(source))
            }
            if let token = c.token {
                offeredUserPassword = "BERTH_GIT_TOKEN"
                return .userPassword(user: c.username ?? urlUser ?? "x-access-token", password: token)
            }
            if let password = c.password, let user = c.username ?? urlUser {
                offeredUserPassword = c.username != nil ? "BERTH_GIT_USERNAME/BERTH_GIT_PASSWORD" : "BERTH_GIT_PASSWORD"
                return .userPassword(user: user, password: password)
            }
            if urlUser != nil {
                return .refuse(AuthFailure(
                    message: "authentication failed: the server rejected the user name and password in the URL",
                    hint: "correct them, or take them out of the URL and \(Self.httpsSetup)"))
            }
            if c.username != nil || c.password != nil {
                let missing = c.username == nil ? "BERTH_GIT_USERNAME" : "BERTH_GIT_PASSWORD"
                return .refuse(AuthFailure(
                    message: "authentication required: the server asks for a login and \(missing) is not set",
                    hint: "set BERTH_GIT_USERNAME and BERTH_GIT_PASSWORD together, or BERTH_GIT_TOKEN alone"))
            }
            if !allowed.contains(.sshKey) {
                return .refuse(AuthFailure(
                    message: "authentication required: the server asks for a login and no credentials are set",
                    hint: Self.httpsSetup))
            }
        }
        let sshUser = urlUser ?? c.username ?? "git"
        if allowed.contains(.sshKey) {
            if let path = c.sshKeyPath {
                if offeredKey {
                    return .refuse(AuthFailure(
                        message: "authentication failed: the server rejected the ssh key in BERTH_GIT_SSH_KEY (\(path))",
                        hint: "check that its public key is authorised on the server, and BERTH_GIT_SSH_PASSPHRASE if the key has one"))
                }
                offeredKey = true
                return .sshKey(user: sshUser, path: path, passphrase: c.sshPassphrase)
            }
            if !offeredAgent {
                offeredAgent = true
                return .sshAgent(user: sshUser)
            }
            return .refuse(AuthFailure(
                message: "authentication failed: the server accepted none of the ssh agent's keys",
                hint: "add the right key to the agent (ssh-add), or set BERTH_GIT_SSH_KEY to a private key file"))
        }
        if allowed.contains(.username) {
            return .username(sshUser)
        }
        return .refuse(AuthFailure(
            message: "authentication required: the server asks for a kind of login Berth does not support",
            hint: "use an access token over https (BERTH_GIT_TOKEN), or ssh with a key"))
    }

    static func rejected(_ source: String) -> AuthFailure {
        switch source {
        case "BERTH_GIT_TOKEN":
            AuthFailure(
                message: "authentication failed: the server rejected the token in BERTH_GIT_TOKEN",
                hint: "check that BERTH_GIT_TOKEN is a current token that may read this repository (and set BERTH_GIT_USERNAME if the server needs a user name with it)")
        default:
            AuthFailure(
                message: "authentication failed: the server rejected the password in \(source)",
                hint: "check BERTH_GIT_USERNAME and BERTH_GIT_PASSWORD, or use an access token in BERTH_GIT_TOKEN")
        }
    }
}

/// The payload of libgit2's credential callback.
private final class CredentialState {
    var planner: CredentialPlanner
    init(_ credentials: GitCredentials) { planner = CredentialPlanner(credentials) }
}

private let acquireCredential: git_credential_acquire_cb = { out, _, usernameFromURL, allowedTypes, payload in
    guard let out, let payload else { return GIT_PASSTHROUGH.rawValue }
    let state = Unmanaged<CredentialState>.fromOpaque(payload).takeUnretainedValue()
    var allowed: CredentialPlanner.Allowed = []
    if allowedTypes & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 { allowed.insert(.userPassword) }
    if allowedTypes & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 { allowed.insert(.sshKey) }
    if allowedTypes & GIT_CREDENTIAL_USERNAME.rawValue != 0 { allowed.insert(.username) }
    switch state.planner.answer(allowed: allowed, urlUser: usernameFromURL.map { String(cString: $0) }) {
    case .userPassword(let user, let password):
        return git_credential_userpass_plaintext_new(out, user, password)
    case .sshKey(let user, let path, let passphrase):
        return git_credential_ssh_key_new(out, user, nil, path, passphrase)
    case .sshAgent(let user):
        return git_credential_ssh_key_from_agent(out, user)
    case .username(let user):
        return git_credential_username_new(out, user)
    case .refuse(let failure):
        git_error_set_str(Int32(GIT_ERROR_NET.rawValue), failure.message)
        return GIT_EAUTH.rawValue
    }
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

    /// Opens what `--repo` names, as every `berth` command does: a remote (see `isRemote`)
    /// is mirrored into its folder under `mirrorCacheRoot` (created when missing) and
    /// fetched; anything else is a local repository, searched upwards from the path like git.
    public static func open(location: String, mirrorCacheRoot: String, credentials: GitCredentials) async throws(GitError) -> GitRepository {
        guard isRemote(location) else { return try GitRepository(path: location, discover: true) }
        try? FileManager.default.createDirectory(atPath: mirrorCacheRoot, withIntermediateDirectories: true)
        return try await mirror(
            url: location, into: mirrorDirectory(for: location, cacheRoot: mirrorCacheRoot), credentials: credentials)
    }

    /// The folder that caches `url`'s bare mirror under `cacheRoot`: a hash of the URL with
    /// its user information (`user:password@`) taken out, so the same repository fetched
    /// with other credentials, in the URL or in the environment, shares the cache, and no
    /// secret ends up in a file name.
    public static func mirrorDirectory(for url: String, cacheRoot: String) -> String {
        let scrubbed = Scrubber.removingURLUserInfo(url)
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
        Libgit2.ensureCertificates()
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
            if let failure = state.planner.failure {
                // Berth refused to answer the server's challenge: its own reason is the one
                // that says what to do (libgit2 may have worded it over).
                error.code = .auth
                error.libgit2Message = scrub.apply(failure.message)
                error.hint = failure.hint
            } else if error.code == .auth || error.isHTTPAuthFailure(askedForCredentials: state.planner.requests > 0) {
                error.code = .auth
                error.hint = error.libgit2Message.contains("403")
                    ? "the server refused access (HTTP 403): the credentials may not read this repository"
                    : CredentialPlanner.httpsSetup
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
