internal import CGit2

/// The libgit2 version Berth runs against, as "major.minor.revision".
public func libgit2Version() -> String {
    var major: Int32 = 0, minor: Int32 = 0, rev: Int32 = 0
    git_libgit2_version(&major, &minor, &rev)
    return "\(major).\(minor).\(rev)"
}
