import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Berth's processes hold many sockets at once (the balancer two per client connection, the
/// watch API one per client, git and Docker their own), and Linux starts most processes at
/// a soft limit of 1,024 descriptors even when the hard limit allows far more (issue 18,
/// finding 4: ~510 idle clients exhausted the balancer). Called first in `main`: the soft
/// limit is raised to the hard one, as systemd's `LimitNOFILE=` would (a hard limit of
/// "unlimited" is capped at the kernel's `nr_open`, which setrlimit enforces).
enum DescriptorLimit {
    static func raise() {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        var wanted = limit
        wanted.rlim_cur = limit.rlim_max
        if setrlimit(resource, &wanted) != 0, let nrOpen = Self.nrOpen, nrOpen > limit.rlim_cur {
            wanted.rlim_cur = min(limit.rlim_max, nrOpen)
            _ = setrlimit(resource, &wanted)
        }
    }

    private static var resource: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }

    /// `/proc/sys/fs/nr_open`: the most descriptors one process may ever have.
    private static var nrOpen: rlim_t? {
        guard let text = try? String(contentsOfFile: "/proc/sys/fs/nr_open", encoding: .utf8) else { return nil }
        return rlim_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
