import Testing
import Foundation
import BerthGit
import BerthTestSupport

@Suite struct GitRepositoryTests {
    @Test func resolvesBranchesTagsShaAndAncestors() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        try b.write("manifests/a.yaml", "one\n")
        let first = try b.commit("first")
        try b.git("tag", "v1")
        try b.git("tag", "-a", "v1-annotated", "-m", "annotated")
        try b.write("manifests/a.yaml", "two\n")
        let second = try b.commit("second")
        try b.git("branch", "feature", first)

        let repo = try GitRepository(path: b.path)
        #expect(try await repo.resolve("HEAD").hex == second)
        #expect(try await repo.resolve("main").hex == second)
        #expect(try await repo.resolve("HEAD~1").hex == first)
        #expect(try await repo.resolve("v1").hex == first)
        #expect(try await repo.resolve("v1-annotated").hex == first)
        #expect(try await repo.resolve("feature").hex == first)
        #expect(try await repo.resolve(String(first.prefix(8))).hex == first)
        #expect(try await repo.resolve(first).hex == first)
        #expect(await repo.referenceNames() == ["feature", "main", "v1", "v1-annotated"])
    }

    @Test func discoversUpwardsAndOpensBare() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        try b.write("manifests/deep/x.yaml", "x\n")
        let sha = try b.commit("c")
        let nested = try GitRepository(path: b.path + "/manifests/deep")
        #expect(try await nested.resolve("HEAD").hex == sha)
        #expect(await nested.workDirectory == b.path + "/")

        let bare = try GitRepoBuilder(bare: true)
        defer { bare.cleanup() }
        try b.git("push", "-q", bare.path, "main")
        let opened = try GitRepository(path: bare.path, discover: false)
        #expect(await opened.workDirectory == nil)
        #expect(try await opened.resolve("main").hex == sha)
    }

    @Test func unknownRevisionSuggestsNearestNames() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        try b.write("a.yaml", "a\n")
        try b.commit("c")
        try b.git("branch", "release-1.4")
        try b.git("tag", "v1.4.2")
        let repo = try GitRepository(path: b.path)
        let error = try await #require(throws: GitError.self) { try await repo.resolve("mian") }
        #expect(error.code == .notFound)
        #expect(error.description == "cannot resolve revision \"mian\": revspec 'mian' not found; did you mean main?")
        let far = try await #require(throws: GitError.self) { try await repo.resolve("zzzzzzzz") }
        #expect(far.hint == "known branches and tags: main, release-1.4, v1.4.2")
    }

    @Test func emptyRepositoryIsAClearError() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        let repo = try GitRepository(path: b.path)
        let error = try await #require(throws: GitError.self) { try await repo.resolve("HEAD") }
        #expect(error.code == .unbornBranch)
        #expect(error.description == "cannot resolve revision \"HEAD\"; the repository \(b.path) has no commits yet; commit the manifests first")
    }

    @Test func notARepository() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let error = #expect(throws: GitError.self) { try GitRepository(path: dir.path, discover: false) }
        #expect(error?.code == .notFound)
        #expect(error?.description == "cannot open repository \(dir.path); not a git repository; pass the path of a repository")
    }

    @Test func readsCommitsWithSignatureOffsets() async throws {
        let b = try GitRepoBuilder(offset: "-0230")
        defer { b.cleanup() }
        try b.write("a.yaml", "a\n")
        let sha = try b.commit("Bump booking\n\nBecause.\n", author: "Grace Hopper", email: "grace@example.com")
        let repo = try GitRepository(path: b.path)
        let commit = try await repo.commit(repo.resolve(sha))
        #expect(commit.author.name == "Grace Hopper")
        #expect(commit.author.email == "grace@example.com")
        #expect(commit.author.offsetMinutes == -150)
        #expect(commit.author.time == b.lastCommitTime)
        #expect(commit.author.rfc3339 == "2025-12-31T21:31:00-02:30")
        #expect(commit.summary == "Bump booking")
        #expect(commit.message == "Bump booking\n\nBecause.\n")
        #expect(commit.parents.isEmpty)
    }

    @Test func listsTreesRecursivelySkippingHiddenFolders() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        try b.write("manifests/b.yaml", "b\n")
        try b.write("manifests/shop/a.yml", "a\n")
        try b.write("manifests/.hidden/x.yaml", "x\n")
        try b.write("README.md", "r\n")
        let sha = try b.commit("c")
        let repo = try GitRepository(path: b.path)
        let id = try #require(ObjectID(hex: sha))
        let folder = try #require(try await repo.entry(at: "manifests", in: id))
        #expect(folder.kind == .tree)
        let files = try await repo.files(under: folder.id, prefix: "manifests")
        #expect(files.map(\.path) == ["manifests/b.yaml", "manifests/shop/a.yml"])
        #expect(files[0].id.hex == (try b.git("rev-parse", "HEAD:manifests/b.yaml")))
        #expect(try await repo.blob(files[1].id) == Array("a\n".utf8))
        #expect(try await repo.entry(at: "nope", in: id) == nil)
    }

    @Test func pathHistorySkipsCommitsThatTouchOtherFiles() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        try b.write("manifests/a.yaml", "1\n")
        let c1 = try b.commit("add a")
        try b.write("README.md", "docs\n")
        try b.commit("docs only")
        try b.move("manifests/a.yaml", "manifests/sub/a.yaml")
        let c3 = try b.commit("move a")
        try b.git("checkout", "-q", "-b", "side")
        try b.write("manifests/b.yaml", "b\n")
        let c4 = try b.commit("add b on side")
        try b.git("checkout", "-q", "main")
        try b.write("other.txt", "o\n")
        try b.commit("other on main")
        try b.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
        let merge = try b.sha("HEAD")

        let repo = try GitRepository(path: b.path)
        let steps = try await repo.pathHistory(from: repo.resolve("HEAD"), path: "manifests")
        #expect(steps.map(\.id.hex) == [merge, c4, c3, c1])
        #expect(steps[0].changes.map(\.path) == ["manifests/b.yaml"])
        #expect(steps[2].changes.map(\.path) == ["manifests/a.yaml", "manifests/sub/a.yaml"])
        #expect(steps[2].changes[0].old == steps[2].changes[1].new)
        #expect(steps[3].parentTree == nil)
    }

    @Test func oidRoundTrips() throws {
        let hex = "0123456789abcdef0123456789abcdef01234567"
        #expect(ObjectID(hex: hex)?.hex == hex)
        #expect(ObjectID(hex: "xyz") == nil)
    }
}

@Suite struct LargeHistoryTests {
    /// 800 commits (so the walk splits its tree comparisons over two threads), checked
    /// against `git log -- manifests` as the oracle, with and without the persistent index.
    @Test func pathHistoryMatchesGitLog() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        var stream = ""
        for c in 0..<800 {
            stream += "commit refs/heads/main\ncommitter T <t@example.com> \(1_700_000_000 + c * 60) +0000\n"
            let message = "c\(c)"
            stream += "data \(message.utf8.count)\n\(message)\n"
            let path = c % 7 == 0 ? "docs/n\(c % 3).txt" : "manifests/f\(c % 23).yaml"
            let content = "v\(c)\n"
            stream += "M 100644 inline \(path)\ndata \(content.utf8.count)\n\(content)\n"
        }
        try b.git(["fast-import", "--quiet"], input: Data(stream.utf8))
        let expected = try b.git("log", "--format=%H", "main", "--", "manifests").split(separator: "\n").map(String.init)
        #expect(expected.count == 685)
        let repo = try GitRepository(path: b.path)
        let head = try await repo.resolve("main")
        let plain = try await repo.pathHistory(from: head, path: "manifests")
        #expect(plain.map(\.id.hex) == expected)
        #expect(plain.allSatisfy { $0.changes.count == 1 })
        let index = PathHistoryIndex(file: b.root.path + "/index/h.history")
        let first = try await repo.pathHistory(from: head, path: "manifests", index: index)
        let second = try await repo.pathHistory(from: head, path: "manifests", index: index)
        #expect(first == plain)
        #expect(second == plain)
        let since = try await repo.pathHistory(from: head, path: "manifests", since: 1_700_000_000 + 790 * 60, index: index)
        #expect(since.map(\.id.hex) == Array(expected.prefix(8)))
    }
}
