import Testing
import Foundation
import BerthCore
import BerthEngine
@testable import BerthGit
import BerthTestSupport

/// The commit-graph reader, and history walks that use it: the same answers with the file
/// as without it.
@Suite struct CommitGraphTests {
    func id(_ sha: String) throws -> ObjectID { try #require(ObjectID(hex: sha)) }

    /// ShopHistory plus a branch merged back, and an octopus merge of two more branches.
    func mergedShop() throws -> (shop: ShopHistory, head: String) {
        let shop = try ShopHistory()
        let b = shop.builder
        try b.git("checkout", "-q", "-b", "side")
        try b.write("manifests/customer.yaml", ShopHistory.customerV2 + "  replicas: 5\n")
        try b.commit("Scale customer on a branch")
        try b.git("checkout", "-q", "main")
        try b.write("notes.txt", "n\n")
        try b.commit("Notes")
        try b.git("merge", "-q", "--no-ff", "-m", "Merge side", "side")
        for name in ["x", "y"] {
            try b.git("checkout", "-q", "-b", name, "main")
            try b.write("manifests/\(name).yaml", GitRepoBuilder.service(name, image: "shop/\(name):1"))
            try b.commit("Add \(name)")
        }
        try b.git("checkout", "-q", "main")
        try b.git("merge", "-q", "--no-ff", "-m", "Octopus", "x", "y")
        // Above the merges, a plain commit: the chain walk reads it, then meets the merge.
        try b.write("manifests/x.yaml", GitRepoBuilder.service("x", image: "shop/x:2"))
        return (shop, try b.commit("Bump x"))
    }

    func writeGraph(_ b: GitRepoBuilder) throws {
        try b.git("commit-graph", "write", "--reachable")
        #expect(FileManager.default.fileExists(atPath: b.path + "/.git/objects/info/commit-graph"))
    }

    @Test func graphEntriesMatchTheCommitsLibgit2Reads() throws {
        let (shop, _) = try mergedShop()
        defer { shop.cleanup() }
        try writeGraph(shop.builder)
        let repo = try Repository.open(path: shop.builder.path, discover: false)
        let graph = try #require(repo.commitGraph)
        let all = try shop.builder.git("rev-list", "--all").split(separator: "\n").map(String.init)
        #expect(all.count == 13)
        #expect(graph.count == 13)
        var octopus = 0
        for sha in all {
            let commit = try repo.commit(id(sha))
            let position = try #require(graph.position(of: commit.id))
            #expect(graph.id(at: position) == commit.id)
            let entry = try #require(graph.entry(at: position))
            #expect(entry.tree == commit.tree)
            #expect(entry.parents.map { graph.id(at: $0) } == commit.parents)
            #expect(entry.time == commit.committer.time)
            if commit.parents.count == 3 { octopus += 1 }
            let (links, time, parents) = try repo.linksAndTime(commit.id)
            #expect(links.root == commit.tree && links.parent == commit.parents.first)
            #expect(time == commit.committer.time && parents == commit.parents.count)
        }
        #expect(octopus == 1)
        // A commit the file does not cover (made after it was written) is not found.
        try shop.builder.write("later.txt", "l\n")
        let later = try shop.builder.commit("Later")
        #expect(graph.position(of: try id(later)) == nil)
    }

    @Test func noGraphWhenTheFileIsMissingOrNotOne() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        #expect(try Repository.open(path: shop.builder.path, discover: false).commitGraph == nil)
        let file = shop.builder.path + "/.git/objects/info/commit-graph"
        try FileManager.default.createDirectory(atPath: shop.builder.path + "/.git/objects/info", withIntermediateDirectories: true)
        try Data("CGPH but not really a commit-graph file at all".utf8).write(to: URL(fileURLWithPath: file))
        let repo = try Repository.open(path: shop.builder.path, discover: false)
        #expect(repo.commitGraph == nil)
        // Without a usable graph, commits are read with libgit2.
        let chain = try #require(try repo.linearChain(from: id(shop.c6)))
        #expect(chain.map(\.id.hex) == [shop.c6, shop.c5, shop.c4, shop.c3, shop.c2, shop.c1])
    }

    @Test func linearChainIsTheRevwalkOrderAndStopsAtAMerge() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let b = shop.builder
        try writeGraph(b)
        // Two commits the graph does not cover, on top of those it does.
        try b.write("manifests/extra.yaml", GitRepoBuilder.service("extra", image: "e:1"))
        let c7 = try b.commit("Extra")
        try b.write("manifests/extra.yaml", GitRepoBuilder.service("extra", image: "e:2"))
        let c8 = try b.commit("Extra 2")
        let repo = try Repository.open(path: b.path, discover: false)
        #expect(repo.commitGraph != nil)
        let chain = try #require(try repo.linearChain(from: id(c8)))
        var walked: [ObjectID] = []
        try repo.walkIDs(from: id(c8)) { (i: ObjectID) throws(GitError) -> Bool in
            walked.append(i)
            return true
        }
        #expect(chain.map(\.id) == walked)
        #expect(chain.map(\.id.hex) == [c8, c7, shop.c6, shop.c5, shop.c4, shop.c3, shop.c2, shop.c1])
        for link in chain {
            let commit = try repo.commit(link.id)
            #expect(link.links.root == commit.tree && link.links.parent == commit.parents.first && link.time == commit.committer.time)
        }
        try b.git("checkout", "-q", "-b", "side", shop.c3)
        try b.write("side.txt", "s\n")
        try b.commit("Side")
        try b.git("checkout", "-q", "main")
        try b.git("merge", "-q", "--no-ff", "-m", "Merge", "side")
        let merge = try b.sha("HEAD")
        #expect(try repo.linearChain(from: id(merge)) == nil)
        // Also when the merge is covered by the graph, far below the start.
        try writeGraph(b)
        try b.write("top.txt", "t\n")
        let top = try b.commit("Top")
        #expect(try Repository.open(path: b.path, discover: false).linearChain(from: id(top)) == nil)
    }

    /// Everything a history walk returns, as comparable text.
    func histories(_ path: String, from head: ObjectID, since: Int64) async throws -> [String] {
        var out: [String] = []
        let src = GitDesiredStateSource(repository: try GitRepository(path: path))
        for service in [nil, "customer", "booking", "x", "nobody"] as [String?] {
            let entries = try await src.history(from: head, path: "manifests", service: service)
            out.append("\(service ?? "*"): " + entries.map { "\($0.commit.id.hex) \($0.changes) \($0.diagnostics)" }.joined(separator: " | "))
        }
        let recent = try await src.history(from: head, path: "manifests", since: since)
        out.append("since: " + recent.map(\.commit.id.hex).joined(separator: " "))
        return out
    }

    @Test func historyIsTheSameWithAndWithoutTheGraph() async throws {
        // With merges (the revwalk path) and linear (the chain path).
        let (merged, head) = try mergedShop()
        defer { merged.cleanup() }
        let linear = try ShopHistory()
        defer { linear.cleanup() }
        for (shop, top) in [(merged, head), (linear, linear.c6)] {
            let since = try await GitRepository(path: shop.builder.path).commit(id(shop.c5)).committer.time
            let without = try await histories(shop.builder.path, from: id(top), since: since)
            #expect(without[0].hasPrefix("*: \(top)"))
            try writeGraph(shop.builder)
            let with = try await histories(shop.builder.path, from: id(top), since: since)
            #expect(with == without)
        }
    }
}
