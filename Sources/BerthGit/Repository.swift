internal import CGit2

/// The synchronous libgit2 core. Used only from `GitRepository`'s serial executor (or from
/// the one thread that created it), never concurrently.
final class Repository {
    let handle: RepositoryHandle
    /// How the repository was named by the caller (used in messages).
    let displayName: String
    /// Commit id → the id of the tree at a path in it (nil: the path does not exist), per path.
    private var subtreeCache: [String: [ObjectID: ObjectID?]] = [:]
    /// The object database, opened on first raw read.
    var odbHandle: ObjectDatabaseHandle?
    /// The few most recently read raw trees (see `rawTree(_:)`).
    var recentRawTrees: [(ObjectID, RawTree)] = []
    /// The commit-graph file, read on first use (nil: none, or not one this reader takes).
    lazy var commitGraph: CommitGraph? = objectsDirectory.flatMap { CommitGraph(objectsDirectory: $0) }

    init(handle: RepositoryHandle, displayName: String) {
        self.handle = handle
        self.displayName = displayName
    }

    /// Opens the repository at `path` (a work tree, its .git folder, or a bare repository);
    /// with `discover`, searches upwards from `path` like `git` does.
    static func open(path: String, discover: Bool) throws(GitError) -> Repository {
        Libgit2.ensureInitialised()
        var pointer: OpaquePointer?
        let flags = discover ? 0 : GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue
        let rc = git_repository_open_ext(&pointer, path, flags, nil)
        if rc == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            throw GitError(
                code: .notFound, operation: "open repository", subject: path,
                hint: discover
                    ? "no git repository here or in any parent folder; pass --repo PATH|URL"
                    : "not a git repository; pass the path of a repository")
        }
        try check(rc, "open repository", path)
        Libgit2.configure(pointer!)
        return Repository(handle: RepositoryHandle(pointer!), displayName: path)
    }

    var pointer: OpaquePointer { handle.pointer }

    var gitDirectory: String { String(cString: git_repository_path(pointer)) }
    var workDirectory: String? { git_repository_workdir(pointer).map { String(cString: $0) } }
    /// True when HEAD's branch has no commits and no other reference exists.
    var isEmpty: Bool { git_repository_head_unborn(pointer) == 1 && referenceNames().isEmpty }

    // MARK: Revisions

    /// Resolves `spec` (branch, remote branch, tag, short or full SHA, HEAD, HEAD~N, …) to a
    /// commit id, peeling tags.
    func resolve(_ spec: String) throws(GitError) -> ObjectID {
        if isEmpty {
            throw GitError(
                code: .unbornBranch, operation: "resolve revision", subject: "\"\(spec)\"",
                hint: "the repository \(displayName) has no commits yet; commit the manifests first")
        }
        var object: OpaquePointer?
        let rc = git_revparse_single(&object, pointer, spec)
        if rc < 0 {
            var error = lastError(rc, "resolve revision", "\"\(spec)\"")
            if error.code == .ambiguous {
                // Only a short commit id is ambiguous (a name that is both a branch and a tag
                // resolves as git does, tag first): nearby branch names would not help.
                error.hint = "a short id in \"\(spec)\" is the start of several object ids; give more of its hex digits"
            } else if error.code == .notFound || error.code == .invalidSpec {
                error.hint = suggestionHint(for: spec)
            }
            throw error
        }
        let owned = ObjectHandle(object!)
        var peeled: OpaquePointer?
        try check(git_object_peel(&peeled, owned.pointer, GIT_OBJECT_COMMIT), "resolve revision", "\"\(spec)\" to a commit")
        let commit = ObjectHandle(peeled!)
        return ObjectID(git_object_id(commit.pointer))
    }

    /// Short names of every branch, remote branch and tag.
    func referenceNames() -> [String] {
        var array = git_strarray()
        guard git_reference_list(&array, pointer) == 0 else {
            git_error_clear()
            return []
        }
        defer { git_strarray_dispose(&array) }
        var names: [String] = []
        for i in 0..<array.count {
            guard let raw = array.strings[i] else { continue }
            let full = String(cString: raw)
            for prefix in ["refs/heads/", "refs/tags/", "refs/remotes/"] where full.hasPrefix(prefix) {
                names.append(String(full.dropFirst(prefix.count)))
            }
        }
        return Array(Set(names)).sorted()
    }

    func suggestionHint(for spec: String) -> String {
        let names = referenceNames()
        var near = Suggestions.sameBranch(as: spec, among: names)
        for name in Suggestions.nearest(to: spec, among: names) where !near.contains(name) { near.append(name) }
        near = Array(near.prefix(3))
        if !near.isEmpty {
            return "did you mean " + near.joined(separator: ", ") + "?"
        }
        if names.isEmpty { return "the repository has no branches or tags" }
        let shown = names.prefix(10).joined(separator: ", ")
        return "known branches and tags: \(shown)\(names.count > 10 ? ", …" : "")"
    }

    // MARK: Objects

    func commitHandle(_ id: ObjectID) throws(GitError) -> CommitHandle {
        var oid = id.oid
        var pointer: OpaquePointer?
        try check(git_commit_lookup(&pointer, self.pointer, &oid), "read commit", id.hex)
        return CommitHandle(pointer!)
    }

    func commit(_ id: ObjectID) throws(GitError) -> Commit {
        let handle = try commitHandle(id)
        return Repository.snapshot(handle)
    }

    static func snapshot(_ handle: CommitHandle) -> Commit {
        let c = handle.pointer
        var parents: [ObjectID] = []
        let count = git_commit_parentcount(c)
        for i in 0..<count { parents.append(ObjectID(git_commit_parent_id(c, i))) }
        return Commit(
            id: ObjectID(git_commit_id(c)), parents: parents, tree: ObjectID(git_commit_tree_id(c)),
            author: signature(git_commit_author(c)), committer: signature(git_commit_committer(c)),
            message: git_commit_message(c).map { String(cString: $0) } ?? "",
            summary: git_commit_summary(c).map { String(cString: $0) } ?? "")
    }

    static func signature(_ pointer: UnsafePointer<git_signature>?) -> Signature {
        guard let s = pointer?.pointee else { return Signature(name: "", email: "", time: 0, offsetMinutes: 0) }
        return Signature(
            name: s.name.map { String(cString: $0) } ?? "", email: s.email.map { String(cString: $0) } ?? "",
            time: s.when.time, offsetMinutes: Int(s.when.offset))
    }

    /// The few most recently read trees: a history walk reads each commit's tree once as
    /// the commit's and again as its child's parent tree.
    private var recentTrees: [(ObjectID, TreeHandle)] = []

    func tree(_ id: ObjectID) throws(GitError) -> TreeHandle {
        if let hit = recentTrees.first(where: { $0.0 == id }) { return hit.1 }
        var oid = id.oid
        var pointer: OpaquePointer?
        try check(git_tree_lookup(&pointer, self.pointer, &oid), "read tree", id.hex)
        let handle = TreeHandle(pointer!)
        if recentTrees.count >= 6 { recentTrees.removeFirst() }
        recentTrees.append((id, handle))
        return handle
    }

    func blob(_ id: ObjectID) throws(GitError) -> [UInt8] {
        var oid = id.oid
        var pointer: OpaquePointer?
        try check(git_blob_lookup(&pointer, self.pointer, &oid), "read blob", id.hex)
        let blob = BlobHandle(pointer!)
        let size = Int(git_blob_rawsize(blob.pointer))
        guard size > 0, let raw = git_blob_rawcontent(blob.pointer) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: size))
    }

    /// The entry at `path` (slash-separated, relative to the root tree) of `rootTree`;
    /// nil when nothing is there. An empty path is the root tree itself.
    func entry(at path: String, inTree rootTree: ObjectID) throws(GitError) -> TreeEntry? {
        let clean = Repository.normalise(path)
        if clean.isEmpty { return TreeEntry(name: "", path: "", id: rootTree, kind: .tree) }
        let root = try tree(rootTree)
        var pointer: OpaquePointer?
        let rc = git_tree_entry_bypath(&pointer, root.pointer, clean)
        if rc == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try check(rc, "look up path", clean)
        let entry = TreeEntryHandle(pointer!)
        guard let kind = TreeEntry.Kind(git_tree_entry_type(entry.pointer)) else { return nil }
        return TreeEntry(
            name: String(cString: git_tree_entry_name(entry.pointer)), path: clean,
            id: ObjectID(git_tree_entry_id(entry.pointer)), kind: kind)
    }

    /// The id of the tree at `path` in `commit` (the root tree for an empty path), cached
    /// per commit; nil when the path is missing or not a folder.
    func subtree(at path: String, ofCommit commit: CommitHandle) throws(GitError) -> ObjectID? {
        let id = ObjectID(git_commit_id(commit.pointer))
        if let cached = subtreeCache[path]?[id] { return cached }
        let root = ObjectID(git_commit_tree_id(commit.pointer))
        let entry = try self.entry(at: path, inTree: root)
        let result = entry?.kind == .tree ? entry?.id : nil
        subtreeCache[path, default: [:]][id] = .some(result)
        return result
    }

    static func normalise(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }.joined(separator: "/")
    }

    /// Every blob under `treeID`, recursively, with paths prefixed by `prefix`; folders whose
    /// name starts with "." are skipped when `skipHidden`. Sorted by path.
    func files(under treeID: ObjectID, prefix: String, skipHidden: Bool) throws(GitError) -> [TreeEntry] {
        var out: [TreeEntry] = []
        try collect(treeID, prefix: prefix, skipHidden: skipHidden, into: &out)
        return out.sorted { $0.path < $1.path }
    }

    private func collect(_ treeID: ObjectID, prefix: String, skipHidden: Bool, into out: inout [TreeEntry]) throws(GitError) {
        let tree = try tree(treeID)
        for i in 0..<tree.count {
            let e = tree.entry(at: i)
            let name = String(cString: git_tree_entry_name(e))
            let path = prefix.isEmpty ? name : prefix + "/" + name
            let id = ObjectID(git_tree_entry_id(e))
            switch TreeEntry.Kind(git_tree_entry_type(e)) {
            case .tree?:
                if skipHidden && name.hasPrefix(".") { continue }
                try collect(id, prefix: path, skipHidden: skipHidden, into: &out)
            case .blob?:
                out.append(TreeEntry(name: name, path: path, id: id, kind: .blob))
            default: continue
            }
        }
    }

    /// Files that differ between two trees (nil = empty tree), recursively; equal subtrees
    /// are skipped by id without being read. Hidden folders are skipped when `skipHidden`.
    func changes(from old: ObjectID?, to new: ObjectID?, prefix: String, skipHidden: Bool) throws(GitError) -> [TreeChange] {
        var out: [TreeChange] = []
        try compare(old, new, prefix: prefix, skipHidden: skipHidden, into: &out)
        return out
    }

    private func compare(_ old: ObjectID?, _ new: ObjectID?, prefix: String, skipHidden: Bool, into out: inout [TreeChange]) throws(GitError) {
        if old == new { return }
        guard let old else {
            for file in try files(under: new!, prefix: prefix, skipHidden: skipHidden) {
                out.append(TreeChange(path: file.path, old: nil, new: file.id))
            }
            return
        }
        guard let new else {
            for file in try files(under: old, prefix: prefix, skipHidden: skipHidden) {
                out.append(TreeChange(path: file.path, old: file.id, new: nil))
            }
            return
        }
        let a = try tree(old), b = try tree(new)
        let countA = a.count, countB = b.count
        var i = 0, j = 0
        func path(_ e: OpaquePointer) -> (String, String) {
            let name = String(cString: git_tree_entry_name(e))
            return (name, prefix.isEmpty ? name : prefix + "/" + name)
        }
        func side(_ e: OpaquePointer, old isOld: Bool) throws(GitError) {
            let (name, full) = path(e)
            let id = ObjectID(git_tree_entry_id(e))
            switch TreeEntry.Kind(git_tree_entry_type(e)) {
            case .tree?:
                if skipHidden && name.hasPrefix(".") { return }
                try compare(isOld ? id : nil, isOld ? nil : id, prefix: full, skipHidden: skipHidden, into: &out)
            case .blob?:
                out.append(TreeChange(path: full, old: isOld ? id : nil, new: isOld ? nil : id))
            default: return
            }
        }
        while i < countA || j < countB {
            if i == countA {
                try side(b.entry(at: j), old: false)
                j += 1
                continue
            }
            if j == countB {
                try side(a.entry(at: i), old: true)
                i += 1
                continue
            }
            let ea = a.entry(at: i), eb = b.entry(at: j)
            let order = git_tree_entry_cmp(ea, eb)
            if order < 0 {
                try side(ea, old: true)
                i += 1
            } else if order > 0 {
                try side(eb, old: false)
                j += 1
            } else {
                i += 1
                j += 1
                if git_oid_equal(git_tree_entry_id(ea), git_tree_entry_id(eb)) == 1
                    && git_tree_entry_type(ea) == git_tree_entry_type(eb) { continue }
                let typeA = TreeEntry.Kind(git_tree_entry_type(ea)), typeB = TreeEntry.Kind(git_tree_entry_type(eb))
                if typeA == .tree && typeB == .tree {
                    let (name, full) = path(ea)
                    if skipHidden && name.hasPrefix(".") { continue }
                    try compare(ObjectID(git_tree_entry_id(ea)), ObjectID(git_tree_entry_id(eb)), prefix: full, skipHidden: skipHidden, into: &out)
                } else if typeA == .blob && typeB == .blob {
                    out.append(TreeChange(path: path(ea).1, old: ObjectID(git_tree_entry_id(ea)), new: ObjectID(git_tree_entry_id(eb))))
                } else {
                    try side(ea, old: true)
                    try side(eb, old: false)
                }
            }
        }
    }

    // MARK: History

    /// Walks commits reachable from `start`, newest first (topological, then by time),
    /// reading each one. `body` returns false to stop.
    func walk(from start: ObjectID, _ body: (CommitHandle) throws(GitError) -> Bool) throws(GitError) {
        try walkIDs(from: start) { (id) throws(GitError) -> Bool in try body(try commitHandle(id)) }
    }

    /// A commit's root tree and first parent: all a history walk needs of it.
    struct CommitLinks: Sendable {
        var root: ObjectID
        var parent: ObjectID?
    }

    func links(_ commit: CommitHandle) -> CommitLinks {
        let c = commit.pointer
        return CommitLinks(
            root: ObjectID(git_commit_tree_id(c)),
            parent: git_commit_parentcount(c) > 0 ? ObjectID(git_commit_parent_id(c, 0)) : nil)
    }

    /// A commit's links, committer time and number of parents: from the commit-graph when
    /// it covers the commit (nothing inflated), else read with libgit2.
    func linksAndTime(_ id: ObjectID) throws(GitError) -> (links: CommitLinks, time: Int64, parents: Int) {
        if let graph = commitGraph, let position = graph.position(of: id), let entry = graph.entry(at: position) {
            return (CommitLinks(root: entry.tree, parent: entry.parents.first.map { graph.id(at: $0) }), entry.time, entry.parents.count)
        }
        let handle = try commitHandle(id)
        return (links(handle), git_commit_time(handle.pointer), Int(git_commit_parentcount(handle.pointer)))
    }

    /// One commit of a linear history: its id, links and committer time.
    struct ChainLink {
        var id: ObjectID
        var links: CommitLinks
        var time: Int64
    }

    /// The commits reachable from `start`, newest first, when none of them is a merge; nil
    /// as soon as a merge is met. A history without merges is a chain, and a chain has
    /// exactly one topological order, so this is the order `walkIDs` yields for it (any
    /// sorting libgit2 applies must put every child before its parent). Commits are taken
    /// from the commit-graph where it covers them, position to position, and read with
    /// libgit2 otherwise (e.g. those made after the graph was written).
    func linearChain(from start: ObjectID) throws(GitError) -> [ChainLink]? {
        var out: [ChainLink] = []
        return try linearChain(from: start, into: &out) ? out : nil
    }

    /// `linearChain(from:)`, keeping in `out` the commits read before a merge stopped it
    /// (the walk that follows need not read them again). True when it reached the root.
    func linearChain(from start: ObjectID, into out: inout [ChainLink]) throws(GitError) -> Bool {
        let graph = commitGraph
        var next: ObjectID? = start
        var position = graph?.position(of: start)
        while let id = next {
            if let graph, let p = position, let entry = graph.entry(at: p) {
                guard entry.parents.count <= 1 else { return false }
                let parent = entry.parents.first
                let parentID = parent.map { graph.id(at: $0) }
                out.append(ChainLink(id: id, links: CommitLinks(root: entry.tree, parent: parentID), time: entry.time))
                next = parentID
                position = parent
            } else {
                let handle = try commitHandle(id)
                guard git_commit_parentcount(handle.pointer) <= 1 else { return false }
                let links = links(handle)
                out.append(ChainLink(id: id, links: links, time: git_commit_time(handle.pointer)))
                next = links.parent
                position = next.flatMap { graph?.position(of: $0) }
            }
        }
        return true
    }

    /// How the tree at `path` in each commit differs from its first parent's. `known` holds
    /// the links of (most of) the commits, read during the walk; others are read here. Trees
    /// are read raw (see `RawTree`): in walk order a commit's parent is the next commit, so
    /// each manifests tree is read once and compared twice.
    func records(for ids: [ObjectID], known: [ObjectID: CommitLinks], path: String, skipHidden: Bool) throws(GitError) -> [ObjectID: PathHistoryIndex.Record] {
        var out: [ObjectID: PathHistoryIndex.Record] = [:]
        out.reserveCapacity(ids.count)
        let components = Repository.normalise(path).split(separator: "/").map { Array($0.utf8) }
        var subtrees: [ObjectID: ObjectID?] = [:]
        func subtree(_ commit: ObjectID) throws(GitError) -> (tree: ObjectID?, parent: ObjectID?) {
            let links: CommitLinks
            if let hit = known[commit] { links = hit } else { links = try linksAndTime(commit).links }
            if let cached = subtrees[commit] { return (cached, links.parent) }
            let tree = try rawSubtree(at: components, root: links.root)
            subtrees[commit] = .some(tree)
            return (tree, links.parent)
        }
        for id in ids {
            let (tree, parent) = try subtree(id)
            var parentTree: ObjectID? = nil
            if let parent { parentTree = try subtree(parent).tree }
            let changes = tree == parentTree ? [] : try rawChanges(from: parentTree, to: tree, prefix: path, skipHidden: skipHidden)
            out[id] = PathHistoryIndex.Record(tree: tree, parentTree: parentTree, changes: changes)
            subtrees[id] = nil
        }
        return out
    }

    /// Walks commit ids reachable from `start` without reading the commits (libgit2 takes
    /// parents and dates from the commit-graph when there is one). `body` returns false to stop.
    func walkIDs(from start: ObjectID, _ body: (ObjectID) throws(GitError) -> Bool) throws(GitError) {
        var walker: OpaquePointer?
        try check(git_revwalk_new(&walker, pointer), "walk history of", displayName)
        let walk = RevwalkHandle(walker!)
        try check(git_revwalk_sorting(walk.pointer, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue), "walk history of", displayName)
        var oid = start.oid
        try check(git_revwalk_push(walk.pointer, &oid), "walk history from", start.hex)
        var next = git_oid()
        while true {
            let rc = git_revwalk_next(&next, walk.pointer)
            if rc == GIT_ITEROVER.rawValue {
                git_error_clear()
                return
            }
            try check(rc, "walk history of", displayName)
            guard try body(ObjectID(next)) else { return }
        }
    }

    func firstParent(of commit: CommitHandle) throws(GitError) -> CommitHandle? {
        guard git_commit_parentcount(commit.pointer) > 0 else { return nil }
        var pointer: OpaquePointer?
        try check(git_commit_parent(&pointer, commit.pointer, 0), "read parent of", ObjectID(git_commit_id(commit.pointer)).hex)
        return CommitHandle(pointer!)
    }
}
