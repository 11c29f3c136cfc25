internal import CGit2
import Foundation

/// libgit2 is initialised once per process, on first use, and never shut down (the
/// process exit releases it). Global configuration from system/XDG/global files is ignored
/// so that Berth's behaviour does not depend on the operator's ~/.gitconfig.
enum Libgit2 {
    private static let initialised: Bool = {
        DeferredCertificates.deferring { git_libgit2_init() }
        _ = berth_git_set_search_path_none()
        _ = berth_git_enable_strict_hash_verification(0)
        _ = berth_git_set_cache_object_limit(GIT_OBJECT_COMMIT, 1 << 20)
        return true
    }()

    static func ensureInitialised() { _ = initialised }

    /// Before anything that may talk TLS: loads the certificates initialisation deferred.
    static func ensureCertificates() {
        ensureInitialised()
        DeferredCertificates.load()
    }

    /// An application-level config file that turns on `core.commitGraph` (git's default since
    /// 2.24, off by default in libgit2 1.5): history walks then take parents and dates from
    /// the commit-graph instead of inflating every commit. Nil when it cannot be written.
    private static let appConfig: String? = {
        let path = NSTemporaryDirectory() + "berth-libgit2-\(getuid()).config"
        let contents = "[core]\n\tcommitGraph = true\n"
        if (try? String(contentsOfFile: path, encoding: .utf8)) == contents { return path }
        let temporary = path + ".\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(contents.utf8)),
            rename(temporary, path) == 0
        else { return nil }
        return path
    }()

    /// Adds the application config to a freshly opened repository (before its object database
    /// is first used). Best effort: without it everything works, only slower.
    static func configure(_ repository: OpaquePointer) {
        guard let appConfig else { return }
        var config: OpaquePointer?
        guard git_repository_config(&config, repository) == 0, let config else {
            git_error_clear()
            return
        }
        defer { git_config_free(config) }
        if git_config_add_file_ondisk(config, appConfig, GIT_CONFIG_LEVEL_APP, repository, 0) < 0 { git_error_clear() }
    }
}

/// The libgit2 version Berth runs against, as "major.minor.revision".
public func libgit2Version() -> String {
    var major: Int32 = 0, minor: Int32 = 0, rev: Int32 = 0
    git_libgit2_version(&major, &minor, &rev)
    return "\(major).\(minor).\(rev)"
}

/// The funnel every libgit2 call goes through: on a negative return code it reads
/// `git_error_last()` right away (it is thread-local: no suspension may come between the
/// call and this read), clears it, and throws a typed `GitError`.
@discardableResult
func check(_ rc: Int32, _ operation: String, _ subject: @autoclosure () -> String, scrub: Scrubber = .none) throws(GitError) -> Int32 {
    guard rc < 0 else { return rc }
    // The subject (often an id's 40 hex digits) is spelled out only on failure: a history
    // walk makes tens of thousands of successful calls.
    throw lastError(rc, operation, subject(), scrub: scrub)
}

func lastError(_ rc: Int32, _ operation: String, _ subject: String, scrub: Scrubber = .none) -> GitError {
    var message = ""
    var klass: Int32 = 0
    if let last = git_error_last() {
        if let text = last.pointee.message { message = String(cString: text) }
        klass = last.pointee.klass
    }
    git_error_clear()
    let code = GitError.Code(rc: rc, klass: klass)
    var error = GitError(
        code: code, libgit2Message: scrub.apply(message.trimmingTrailingNewlines),
        operation: operation, subject: scrub.apply(subject), hint: code.defaultHint)
    error.libgit2Class = klass
    return error
}

extension GitError {
    /// Whether libgit2's HTTP transport failed on authentication, all of class
    /// GIT_ERROR_HTTP. Seen with libgit2 1.5.1 against a server answering 401: "remote
    /// authentication required but no callback set" (GIT_EAUTH) when nothing answered the
    /// challenge, "too many redirects or authentication replays" (rc -1) after 15 rejected
    /// replays. Its other words for it: "server requires authentication that we do not
    /// support", and "unexpected http status code: 403" for a refusal (401 taken as well).
    /// A plain redirect loop also ends in "too many redirects or authentication replays":
    /// that counts only when the server `askedForCredentials`.
    func isHTTPAuthFailure(askedForCredentials: Bool) -> Bool {
        guard UInt32(bitPattern: libgit2Class) == GIT_ERROR_HTTP.rawValue else { return false }
        let text = libgit2Message.lowercased()
        if text.contains("status code: 401") || text.contains("status code: 403") { return true }
        if text.contains("authentication replays") { return askedForCredentials }
        return text.contains("authentication")
    }
}

extension GitError.Code {
    init(rc: Int32, klass: Int32) {
        switch rc {
        case GIT_ENOTFOUND.rawValue: self = .notFound
        case GIT_EEXISTS.rawValue: self = .exists
        case GIT_EAMBIGUOUS.rawValue: self = .ambiguous
        case GIT_EAUTH.rawValue: self = .auth
        case GIT_EINVALIDSPEC.rawValue: self = .invalidSpec
        case GIT_ELOCKED.rawValue: self = .locked
        case GIT_EUNBORNBRANCH.rawValue: self = .unbornBranch
        case GIT_ECERTIFICATE.rawValue: self = .certificate
        case GIT_EPEEL.rawValue: self = .peel
        case GIT_EINVALID.rawValue: self = .invalid
        case GIT_EOWNER.rawValue: self = .owner
        default:
            switch UInt32(bitPattern: klass) {
            case GIT_ERROR_NET.rawValue, GIT_ERROR_SSH.rawValue, GIT_ERROR_HTTP.rawValue, GIT_ERROR_SSL.rawValue:
                self = .network
            default: self = .generic
            }
        }
    }

    var defaultHint: String {
        switch self {
        case .auth:
            "check BERTH_GIT_TOKEN (or BERTH_GIT_USERNAME/BERTH_GIT_PASSWORD) for https, the ssh agent or BERTH_GIT_SSH_KEY for ssh"
        case .network: "check the URL, the network and that the server is up"
        case .locked: "another process holds a lock on the repository; retry, or remove a stale .lock file"
        case .owner: "the repository is owned by another user"
        default: ""
        }
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
