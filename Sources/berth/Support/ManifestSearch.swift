import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Finding manifest files on disk for `berth validate`, without reading anything outside the
/// repository.
///
/// CI runs `berth validate` on pull requests from strangers, whose work tree may hold
/// symbolic links: `manifests/env.yaml -> /proc/self/environ` printed the job's environment
/// in an error snippet (issue 18). So every path is resolved before it is read, and one that
/// resolves outside the *boundary* (the git repository holding the path given, else the
/// folder given, or the folder of the file given) is refused by name, unread. Links that stay
/// inside are followed, a folder at most once (a loop of links ends).
enum ManifestSearch {
    struct Root {
        var display: String
        var url: URL
        var isDirectory: Bool
    }

    /// A path to read as a manifest, or one refused with the reason (never read).
    enum Entry: Equatable {
        case file(display: String, url: URL)
        case refused(display: String, reason: String)

        var display: String {
            switch self {
            case .file(let display, _), .refused(let display, _): display
            }
        }
    }

    static let fileOutside = "a symbolic link to a file outside the repository; not read (berth validate reads nothing outside the repository)"
    static let folderOutside = "a symbolic link to a folder outside the repository; not searched (berth validate reads nothing outside the repository)"
    static let notRegular = "not a regular file; not read"

    /// The command-line paths, checked to exist; or the repository's manifests folder.
    static func roots(_ paths: [String], cwd: URL) throws -> [Root] {
        let fm = FileManager.default
        if paths.isEmpty {
            guard let repo = repositoryRoot(from: cwd) else {
                throw ValidationError(
                    "not inside a git repository; name the files or folders to check, e.g. berth validate manifests/")
            }
            var target = repo
            var isDir: ObjCBool = false
            let manifests = repo.appendingPathComponent("manifests", isDirectory: true)
            if fm.fileExists(atPath: manifests.path, isDirectory: &isDir), isDir.boolValue { target = manifests }
            return [Root(display: relativePath(of: target, from: cwd), url: target, isDirectory: true)]
        }
        return try paths.map { given in
            var isDir: ObjCBool = false
            let url = URL(fileURLWithPath: given, relativeTo: cwd).standardizedFileURL
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else {
                throw ValidationError("no such file or folder: \(given)")
            }
            var display = given
            while display.count > 1, display.hasSuffix("/") { display.removeLast() }
            return Root(display: display, url: url, isDirectory: isDir.boolValue)
        }
    }

    /// Every path to check, in order: each root's entries sorted, duplicates dropped.
    static func search(_ roots: [Root]) -> [Entry] {
        var out: [Entry] = []
        var seen: Set<String> = []
        for root in roots {
            for entry in entries(of: root) {
                let key: String
                switch entry {
                case .file(_, let url): key = url.path
                case .refused(let display, _): key = "refused:" + display
                }
                if seen.insert(key).inserted { out.append(entry) }
            }
        }
        return out
    }

    /// The boundary of `root`: the real path of the repository holding the path as given
    /// (before any link in it is followed), else of the folder given or the file's folder.
    static func boundary(of root: Root) -> String? {
        let given = root.url.standardizedFileURL
        let start = root.isDirectory ? given : given.deletingLastPathComponent()
        return realPath((repositoryRoot(from: start) ?? start).path)
    }

    private static func entries(of root: Root) -> [Entry] {
        guard let boundary = boundary(of: root), let real = realPath(root.url.path) else { return [] }
        let inside = isInside(real, boundary)
        if !root.isDirectory {
            guard inside else { return [.refused(display: root.display, reason: fileOutside)] }
            guard isRegularFile(real) else { return [.refused(display: root.display, reason: notRegular)] }
            return [.file(display: root.display, url: URL(fileURLWithPath: real, isDirectory: false))]
        }
        guard inside else { return [.refused(display: root.display, reason: folderOutside)] }
        let prefix = root.display == "." ? "" : root.display.hasSuffix("/") ? root.display : root.display + "/"
        return walk(real, boundary: boundary).map { entry in
            switch entry {
            case .file(let rel, let url): .file(display: prefix + rel, url: url)
            case .refused(let rel, let reason): .refused(display: prefix + rel, reason: reason)
            }
        }
    }

    /// `*.yaml` / `*.yml` under the real folder `folder`, recursively, hidden entries
    /// skipped, sorted by relative path; `url` is each file's real path (what was checked
    /// is what is read).
    ///
    /// An entry that is not a link is inside `folder`, so inside the boundary, and its real
    /// path is `folder/name`: only links are resolved (`realpath` costs a system call per
    /// path component, and the walk is most of what `berth validate` spends on 5,000 small
    /// files besides parsing). The type comes from the directory entry, or `lstat` where the
    /// file system does not give it.
    private static func walk(_ folder: String, boundary: String) -> [Entry] {
        var out: [Entry] = []
        var visited: Set<String> = [folder]
        var stack = [(rel: "", real: folder)]
        while let (rel, dir) = stack.popLast() {
            guard let stream = opendir(dir) else { continue }
            defer { closedir(stream) }
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                guard !name.hasPrefix(".") else { continue }
                let child = rel.isEmpty ? name : rel + "/" + name
                let isManifest = name.hasSuffix(".yaml") || name.hasSuffix(".yml")
                let path = dir + "/" + name
                var type = entry.pointee.d_type
                if type == UInt8(DT_UNKNOWN) {
                    var info = stat()
                    guard lstat(path, &info) == 0 else { continue }
                    type = (info.st_mode & S_IFMT) == S_IFLNK ? UInt8(DT_LNK)
                        : (info.st_mode & S_IFMT) == S_IFDIR ? UInt8(DT_DIR)
                        : (info.st_mode & S_IFMT) == S_IFREG ? UInt8(DT_REG) : UInt8(DT_UNKNOWN)
                }
                switch type {
                case UInt8(DT_DIR):
                    if visited.insert(path).inserted { stack.append((child, path)) }
                case UInt8(DT_REG):
                    if isManifest { out.append(.file(display: child, url: URL(fileURLWithPath: path, isDirectory: false))) }
                case UInt8(DT_LNK):
                    // A dangling link is skipped, as a missing file.
                    guard let real = realPath(path) else { continue }
                    var info = stat()
                    guard stat(real, &info) == 0 else { continue }
                    let isDir = (info.st_mode & S_IFMT) == S_IFDIR
                    if !isInside(real, boundary) {
                        if isDir {
                            out.append(.refused(display: child, reason: folderOutside))
                        } else if isManifest {
                            out.append(.refused(display: child, reason: fileOutside))
                        }
                    } else if isDir {
                        if visited.insert(real).inserted { stack.append((child, real)) }
                    } else if isManifest {
                        out.append((info.st_mode & S_IFMT) == S_IFREG
                            ? .file(display: child, url: URL(fileURLWithPath: real, isDirectory: false))
                            : .refused(display: child, reason: notRegular))
                    }
                default:
                    // A fifo, socket or device named *.yaml: never opened.
                    if isManifest { out.append(.refused(display: child, reason: notRegular)) }
                }
            }
        }
        return out.sorted { $0.display < $1.display }
    }

    /// The canonical absolute path, every link followed; nil when it does not resolve.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isInside(_ path: String, _ boundary: String) -> Bool {
        boundary == "/" || path == boundary || path.hasPrefix(boundary + "/")
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The nearest folder at or above `start` that holds `.git` (a folder, or a file in a
    /// worktree).
    static func repositoryRoot(from start: URL) -> URL? {
        var dir = start.standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(".git").path) { return dir }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { return nil }
            dir = parent
        }
    }

    /// `target` relative to `base` (`manifests`, `../manifests`, `.`), as spelled: a
    /// `manifests` that is a link is named `manifests`, not where it leads.
    static func relativePath(of target: URL, from base: URL) -> String {
        let t = target.standardizedFileURL.pathComponents
        let b = base.standardizedFileURL.pathComponents
        var common = 0
        while common < t.count, common < b.count, t[common] == b[common] { common += 1 }
        let parts = Array(repeating: "..", count: b.count - common) + t[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
