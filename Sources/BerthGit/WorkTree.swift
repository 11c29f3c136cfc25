internal import CGit2

/// What a work tree holds beside its commits: files changed but not committed, which
/// `berth plan` does not read (it plans the commit, as `berth watch` applies it).
extension GitRepository {
    /// Paths (relative to the work tree) under `prefix` that differ from HEAD — modified,
    /// added, deleted, renamed or untracked; ignored files left out — sorted. Empty for a
    /// bare repository, and when libgit2 cannot say.
    public func uncommittedChanges(under prefix: String) -> [String] { repository.uncommittedChanges(under: prefix) }
}

/// One owner for a `git_status_list`.
final class StatusListHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_status_list_free(pointer) }
}

extension Repository {
    func uncommittedChanges(under prefix: String) -> [String] {
        guard workDirectory != nil else { return [] }
        var options = git_status_options()
        guard git_status_options_init(&options, 1) == 0 else { return [] }
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        let cleaned = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        var list: OpaquePointer?
        let rc: Int32
        if cleaned.isEmpty || cleaned == "." {
            rc = git_status_list_new(&list, self.pointer, &options)
        } else {
            rc = cleaned.withCString { path in
                var strings: [UnsafeMutablePointer<CChar>?] = [UnsafeMutablePointer(mutating: path)]
                return strings.withUnsafeMutableBufferPointer { buffer in
                    options.pathspec = git_strarray(strings: buffer.baseAddress, count: 1)
                    return git_status_list_new(&list, self.pointer, &options)
                }
            }
        }
        guard rc == 0, let list else {
            git_error_clear()
            return []
        }
        let owner = StatusListHandle(list)
        var paths: Set<String> = []
        for i in 0..<git_status_list_entrycount(owner.pointer) {
            guard let entry = git_status_byindex(owner.pointer, i) else { continue }
            guard let delta = entry.pointee.index_to_workdir ?? entry.pointee.head_to_index else { continue }
            if let file = delta.pointee.new_file.path ?? delta.pointee.old_file.path { paths.insert(String(cString: file)) }
        }
        return paths.sorted()
    }
}
