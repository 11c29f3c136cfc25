import Testing
import Foundation
@testable import BerthGit
import BerthTestSupport

/// The history walk compares raw tree bytes (`rawChanges`, `rawSubtree`) instead of
/// libgit2's parsed trees (`changes`, `entry(at:)`): both must report exactly the same files,
/// in the same order, for every kind of change git can record.
@Suite struct RawTreeTests {
    /// Commits every kind of tree change, one step at a time; returns the commit ids in order.
    func buildHistory(_ b: GitRepoBuilder) throws -> [String] {
        var commits: [String] = []
        // Names chosen around git's tree order: "a" (file), "a-b", "a.yaml", and later "a/" (folder).
        try b.write("manifests/a", "file a\n")
        try b.write("manifests/a-b", "1\n")
        try b.write("manifests/a.yaml", "1\n")
        try b.write("manifests/z.yaml", "1\n")
        try b.write("manifests/.hidden/h.yaml", "1\n")
        try b.write("manifests/deep/er/x.yaml", "1\n")
        try b.write("README.md", "1\n")
        commits.append(try b.commit("initial"))
        try b.write("manifests/a.yaml", "2\n")  // modify one file
        commits.append(try b.commit("modify"))
        try b.write("manifests/m.yaml", "1\n")  // add in the middle
        try b.remove("manifests/z.yaml")  // delete at the end
        commits.append(try b.commit("add and delete"))
        try b.write("manifests/deep/er/x.yaml", "2\n")  // nested modify
        try b.write("manifests/deep/new/y.yaml", "1\n")  // nested folder added
        try b.write("manifests/.hidden/h.yaml", "2\n")  // hidden folder changed
        try b.write("manifests/.other/q.yaml", "1\n")  // hidden folder added
        commits.append(try b.commit("nested"))
        try b.remove("manifests/a")  // a file becomes a folder of the same name
        try b.write("manifests/a/inner.yaml", "1\n")
        commits.append(try b.commit("file to folder"))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: b.path + "/manifests/m.yaml")  // mode change only
        commits.append(try b.commit("chmod"))
        try b.remove("manifests/deep")  // a whole folder removed
        try b.write("README.md", "2\n")  // outside the manifests folder
        commits.append(try b.commit("remove folder"))
        try b.remove("manifests/a/inner.yaml")  // and back to a file
        try b.write("manifests/a", "file again\n")
        try b.write("manifests/a-b", "2\n")
        try b.write("manifests/zz/last.yaml", "1\n")
        commits.append(try b.commit("folder to file"))
        return commits
    }

    @Test func rawComparisonMatchesLibgit2sTreeDiff() throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        let commits = try buildHistory(b).compactMap(ObjectID.init(hex:))
        let repo = try Repository.open(path: b.path, discover: false)
        var compared = 0
        for (old, new) in zip([nil] + commits.dropLast().map(Optional.some), commits) {
            for path in ["", "manifests", "manifests/deep"] {
                let components = path.split(separator: "/").map { Array($0.utf8) }
                let newTree = try repo.rawSubtree(at: components, root: repo.commit(new).tree)
                let expectedNew = try repo.entry(at: path, inTree: repo.commit(new).tree)
                #expect(newTree == (expectedNew?.kind == .tree ? expectedNew?.id : nil))
                var oldTree: ObjectID? = nil
                if let old { oldTree = try repo.rawSubtree(at: components, root: repo.commit(old).tree) }
                for skipHidden in [true, false] {
                    let expected = try repo.changes(from: oldTree, to: newTree, prefix: path, skipHidden: skipHidden)
                    let actual = try repo.rawChanges(from: oldTree, to: newTree, prefix: path, skipHidden: skipHidden)
                    #expect(actual == expected, "\(path) \(old?.short ?? "nil")..\(new.short) skipHidden=\(skipHidden)")
                    compared += expected.count
                }
            }
        }
        #expect(compared > 30)
        // Spot checks, so that both implementations agreeing on nothing cannot pass.
        let fileToFolder = try repo.rawChanges(
            from: repo.rawSubtree(at: [Array("manifests".utf8)], root: repo.commit(commits[3]).tree),
            to: repo.rawSubtree(at: [Array("manifests".utf8)], root: repo.commit(commits[4]).tree),
            prefix: "manifests", skipHidden: true)
        #expect(fileToFolder.map(\.path) == ["manifests/a", "manifests/a/inner.yaml"])
        #expect(fileToFolder[0].new == nil && fileToFolder[1].old == nil)
        let chmod = try repo.rawChanges(
            from: repo.rawSubtree(at: [Array("manifests".utf8)], root: repo.commit(commits[4]).tree),
            to: repo.rawSubtree(at: [Array("manifests".utf8)], root: repo.commit(commits[5]).tree),
            prefix: "manifests", skipHidden: true)
        #expect(chmod.isEmpty)
    }

    @Test func rawTreeRejectsANonTree() throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        try b.write("manifests/a.yaml", "1\n")
        let commit = try #require(ObjectID(hex: try b.commit("one")))
        let repo = try Repository.open(path: b.path, discover: false)
        #expect(throws: GitError.self) { try repo.rawTree(commit) }
        let blob = try #require(try repo.entry(at: "manifests/a.yaml", inTree: repo.commit(commit).tree))
        #expect(try repo.rawSubtree(at: [Array("manifests".utf8), Array("a.yaml".utf8)], root: repo.commit(commit).tree) == nil)
        #expect(blob.kind == .blob)
    }
}
