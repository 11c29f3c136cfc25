import BerthGit
import BerthYAML
import Foundation
import Synchronization

/// `berth.yaml` at the root of a repository's work tree, committed with it: `project: NAME`
/// names the project in every clone, whatever folder the clone is in. Without it the default
/// is the folder's name, which two clones (`shop`, `shop-2`) do not share — and two names
/// are two projects on one Docker host. A remote `--repo URL` is named by its URL, the same
/// everywhere, so only local work trees read the file.
enum ProjectFile {
    static let fileName = "berth.yaml"

    /// A command may ask for its project name more than once: each warning is said once.
    private static let said = Mutex<Set<String>>([])

    static func warnOnce(_ text: String) {
        if said.withLock({ $0.insert(text).inserted }) { printError(text) }
    }

    /// The work tree root the project of `source` lives in: `--repo PATH`, else the current
    /// directory, searched upwards for `.git`; nil for a remote `--repo`, or outside any work tree.
    static func root(_ source: SourceOptions) -> String? {
        if let repo = source.repo, GitRepository.isRemote(repo) { return nil }
        var dir = URL(fileURLWithPath: source.repo ?? FileManager.default.currentDirectoryPath).standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(".git").path) { return dir.path }
            if dir.path == "/" { return nil }
            dir.deleteLastPathComponent()
        }
    }

    /// The `project:` of `<root>/berth.yaml`, or nil when there is no file or no such key.
    /// A value that is not a valid project name is cleaned (`My Shop` → `my-shop`), and a file
    /// Berth cannot read is left aside, each with a warning that says where and what to do.
    static func project(inRoot root: String, warn: (String) -> Void = warnOnce) -> String? {
        let path = root + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let parsed = YAML.parse(Array(data))
        if let error = parsed.errors.first {
            warn("warning: \(path): \(error); the project name comes from the folder's name until it is fixed")
            return nil
        }
        guard case .mapping(let mapping)? = parsed.documents.first?.root, let node = mapping["project"] else { return nil }
        let at = "\(path):\(node.mark.line):\(node.mark.column)"
        guard case .scalar(let scalar) = node, !scalar.value.isEmpty else {
            warn("warning: \(at): project: expected a project name, found \(node.kindDescription); the project name comes from the folder's name until it is fixed")
            return nil
        }
        if let problem = ProjectOptions.problem(scalar.value) {
            let cleaned = ProjectOptions.cleaned(scalar.value)
            warn("warning: \(at): project \"\(scalar.value)\": \(problem); using \(cleaned) (write project: \(cleaned) to say so)")
            return cleaned
        }
        return scalar.value
    }
}
