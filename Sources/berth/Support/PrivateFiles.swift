import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What Berth writes is its user's alone: journals, git mirrors (a private repository's
/// whole content), history indexes, proxy state and logs (issue 18: the state folder was
/// 0755, `journal.sqlite` 0644, the mirror's packs 0444).
enum PrivateFiles {
    /// Called first in `main`: every file and folder this process and its children create —
    /// by Foundation, SQLite, libgit2 or a started `berth proxy` — gets no bits for group and
    /// others (folders 0700, files 0600, libgit2's packs 0400). Containers are created by
    /// dockerd and are not affected.
    static func restrictNewFiles() {
        umask(0o077)
    }

    /// Takes group's and others' bits off `path` (a folder an older Berth made world-readable),
    /// when it exists and belongs to this user; anything inside is then out of their reach.
    static func restrict(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0, info.st_uid == getuid(), info.st_mode & 0o077 != 0 else { return }
        chmod(path, info.st_mode & 0o700)
    }
}
