internal import CGit2

/// Whether one commit's history contains another: how `berth watch` tells a fast-forward
/// from a rewritten history (a force-push, a branch reset).
extension GitRepository {
    /// True when `ancestor` is reachable from `commit` (or is `commit`), through libgit2's
    /// `git_graph_descendant_of`. A commit this repository does not hold is no ancestor of
    /// one it holds (a mirror prunes branches, but a rewritten commit's objects may also have
    /// been collected); `commit` itself must exist.
    public func isAncestor(_ ancestor: ObjectID, of commit: ObjectID) throws(GitError) -> Bool {
        try repository.isAncestor(ancestor, of: commit)
    }
}

extension Repository {
    func isAncestor(_ ancestor: ObjectID, of commit: ObjectID) throws(GitError) -> Bool {
        _ = try commitHandle(commit)
        if ancestor == commit { return true }
        do throws(GitError) {
            _ = try commitHandle(ancestor)
        } catch {
            if error.code == .notFound { return false }
            throw error
        }
        var descendant = commit.oid
        var older = ancestor.oid
        let rc = git_graph_descendant_of(pointer, &descendant, &older)
        return try check(rc, "check ancestry", "\(ancestor) of \(commit)") == 1
    }
}
