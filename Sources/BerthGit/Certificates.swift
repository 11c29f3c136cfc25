internal import CGit2
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loading TLS certificates is most of what `git_libgit2_init` costs (with the mbedTLS
/// backend it parses every certificate in the system bundle: ~50 million instructions, more
/// than a whole `berth diff`), and only fetching over https needs them. So Berth defers it:
/// while `git_libgit2_init` runs, the bundle's path is recorded instead of parsed, and
/// `Libgit2.ensureCertificates()` loads it, through libgit2's own option, before the first
/// fetch. A missed call can only make https fail certificate checks, never skip them: until
/// loaded, the trusted set is empty.
///
/// The deferral interposes `mbedtls_x509_crt_parse_file` (the executable's definition comes
/// first in the dynamic linker's search order); every call outside the init window goes to
/// mbedTLS's own function. With another TLS backend the function is never called.
enum DeferredCertificates {
    struct State {
        var deferring = false
        var file: String?
        var loaded = false
    }
    static let state = Mutex(State())

    /// Runs `body` (libgit2's initialisation) with certificate loading deferred.
    static func deferring(_ body: () -> Void) {
        state.withLock { $0.deferring = true }
        body()
        state.withLock { $0.deferring = false }
    }

    /// Loads the certificates that initialisation skipped (once; later calls do nothing).
    static func load() {
        let file = state.withLock { s -> String? in
            guard !s.loaded else { return nil }
            s.loaded = true
            return s.file
        }
        guard let file else { return }
        if berth_git_set_ssl_cert_locations(file, nil) < 0 { git_error_clear() }
    }

    typealias ParseFile = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Int32

    static func parseFile(_ chain: UnsafeMutableRawPointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
        let deferred = state.withLock { s -> Bool in
            guard s.deferring, let path else { return false }
            s.file = String(cString: path)
            return true
        }
        if deferred { return 0 }
        // RTLD_NEXT: the definition after this executable's, i.e. mbedTLS's.
        guard let next = dlsym(UnsafeMutableRawPointer(bitPattern: -1), "mbedtls_x509_crt_parse_file") else {
            return -0x2900  // MBEDTLS_ERR_X509_FILE_IO_ERROR
        }
        return unsafeBitCast(next, to: ParseFile.self)(chain, path)
    }
}

/// mbedTLS's `int mbedtls_x509_crt_parse_file(mbedtls_x509_crt *chain, const char *path)`,
/// interposed (see `DeferredCertificates`). Not for use from Swift.
@_cdecl("mbedtls_x509_crt_parse_file")
public func _berthInterposedX509ParseFile(_ chain: UnsafeMutableRawPointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    DeferredCertificates.parseFile(chain, path)
}
