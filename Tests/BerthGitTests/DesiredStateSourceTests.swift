import Testing
import Foundation
import BerthCore
import BerthEngine
import BerthGit
import BerthTestSupport

@Suite struct DesiredStateSourceTests {
    func source(_ shop: ShopHistory) throws -> GitDesiredStateSource {
        GitDesiredStateSource(repository: try GitRepository(path: shop.builder.path))
    }

    func id(_ sha: String) throws -> ObjectID { try #require(ObjectID(hex: sha)) }

    @Test func readsTheCommittedTreeNotTheWorkingCopy() async throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        try shop.builder.write("manifests/uncommitted.yaml", GitRepoBuilder.service("ghost", image: "g:1"))
        let src = try source(shop)
        let head = try await src.desiredState(revision: "HEAD", path: nil)
        #expect(head.commit == shop.c6)
        #expect(head.services.keys.sorted() == ["booking", "customer"])
        #expect(head.services["booking"]?.image == "shop/booking:1.4.2")
        #expect(head.services["booking"]?.source?.file == "manifests/shop/booking.yml")
        #expect(head.diagnostics.isEmpty)
        let v1 = try await src.desiredState(revision: "v1", path: nil)
        #expect(v1.commit == shop.c1)
        #expect(v1.services["booking"]?.replicas == 2)
        #expect(v1.services["booking"]?.source?.file == "manifests/booking.yaml")
    }

    @Test func invalidRevisionHasRepositoryRelativeDiagnostics() async throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let state = try await source(shop).desiredState(revision: shop.c5, path: nil)
        #expect(state.hasErrors)
        #expect(state.diagnostics.allSatisfy { $0.file == "manifests/customer.yaml" })
    }

    @Test func rootWhenThereIsNoManifestsFolder() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        try b.write("web.yaml", GitRepoBuilder.service("web", image: "web:1"))
        try b.write("deploy/api.yml", GitRepoBuilder.service("api", image: "api:1"))
        try b.write(".github/ci.yaml", "on: push\n")
        try b.write("README.md", "hi\n")
        try b.commit("c")
        let src = GitDesiredStateSource(repository: try GitRepository(path: b.path))
        let state = try await src.desiredState(revision: "HEAD", path: nil)
        #expect(state.services.keys.sorted() == ["api", "web"])
        let deploy = try await src.desiredState(revision: "HEAD", path: "deploy/")
        #expect(deploy.services.keys.sorted() == ["api"])
    }

    @Test func missingPathNamesPathAndRevision() async throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let src = try source(shop)
        let short = String(shop.c1.prefix(7))
        let error = try await #require(throws: DesiredStateSourceError.self) {
            try await src.desiredState(revision: "v1", path: "manifests/shop")
        }
        #expect(error.description == "the path \"manifests/shop\" does not exist at revision v1 (\(short)); check --path, or list the tree with `git ls-tree --name-only \(short)`")
        let file = try await #require(throws: DesiredStateSourceError.self) {
            try await src.desiredState(revision: "v1", path: "README.md")
        }
        #expect(file.description.contains("does not exist at revision v1"))
    }

    @Test func parsesEachBlobOnceAndReusesMovedFiles() async throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let src = try source(shop)
        _ = try await src.desiredState(at: id(shop.c1), path: "manifests")
        #expect(src.cache.parseCount == 2)
        _ = try await src.desiredState(at: id(shop.c2), path: "manifests")
        #expect(src.cache.parseCount == 2)
        _ = try await src.desiredState(at: id(shop.c3), path: "manifests")
        #expect(src.cache.parseCount == 3)  // only booking.yaml changed
        let moved = try await src.desiredState(at: id(shop.c4), path: "manifests")
        #expect(src.cache.parseCount == 3)  // same blob at a new path
        #expect(moved.services["booking"]?.source?.file == "manifests/shop/booking.yml")
    }

    /// The cache `berth watch` keeps across commits stays bounded: 40 commits, each with a
    /// new blob, through a cache of capacity 4 over 3 manifests.
    @Test func theParseCacheStaysBoundedAcrossCommits() async throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        let cache = ManifestParseCache(capacity: 4)
        let src = GitDesiredStateSource(repository: try GitRepository(path: repo.path), cache: cache)
        var sizes: [Int] = []
        for i in 0..<40 {
            for name in ["a", "b", "c"] {
                try repo.write("manifests/\(name).yaml", GitRepoBuilder.service(name, image: "shop/\(name):1", replicas: name == "a" ? i : 1))
            }
            let commit = try repo.commit("replicas of a: \(i)")
            let state = try await src.desiredState(at: id(commit), path: "manifests")
            #expect(state.services["a"]?.replicas == i)
            #expect(state.services.count == 3)
            sizes.append(cache.count)
        }
        // b and c are parsed once; a once per commit; old versions of a are dropped.
        #expect(cache.parseCount == 2 + 40)
        #expect(sizes.max()! <= 4)
        // A load larger than the capacity keeps all it read.
        let small = ManifestParseCache(capacity: 1)
        let all = GitDesiredStateSource(repository: try GitRepository(path: repo.path), cache: small)
        let head = try await all.desiredState(revision: "HEAD", path: nil)
        #expect(head.services.count == 3)
        #expect(small.count == 3)
    }

    @Test func diffComparesTreeIdsFirstAndPairsServicesByName() async throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let src = try source(shop)
        let same = try await src.diff(from: id(shop.c1), to: id(shop.c2), path: "manifests")
        #expect(same.changedFiles == 0 && same.diff.isEmpty)
        #expect(src.cache.parseCount == 0)
        let moved = try await src.diff(from: id(shop.c3), to: id(shop.c4), path: "manifests")
        #expect(moved.changedFiles == 2 && moved.diff.isEmpty)
        let bump = try await src.diff(from: id(shop.c1), to: id(shop.c4), path: "manifests")
        #expect(bump.diff.changes == [ServiceChange(service: "booking", kind: .changed, fields: [
            FieldChange(path: "spec.env.API_TOKEN", from: .string("(sensitive)"), to: .string("(sensitive)")),
            FieldChange(path: "spec.image", from: .string("shop/booking:1.4.1"), to: .string("shop/booking:1.4.2")),
            FieldChange(path: "spec.replicas", from: .int(2), to: .int(3)),
        ])])
        #expect(bump.diagnostics.isEmpty)
    }

    @Test func historyOfEverythingNewestFirst() async throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let src = try source(shop)
        let entries = try await src.history(from: id(shop.c6), path: "manifests")
        #expect(entries.map(\.commit.id.hex) == [shop.c6, shop.c5, shop.c3, shop.c1])
        #expect(entries[0].changes == [ServiceChange(service: "customer", kind: .changed, fields: [
            FieldChange(path: "spec.image", from: .string("shop/customer:1.0"), to: .string("shop/customer:2.0")),
        ])])
        #expect(entries[1].changes.isEmpty)
        #expect(entries[1].diagnostics.map(\.file) == ["manifests/customer.yaml"])
        #expect(entries[1].diagnostics.allSatisfy { $0.severity == .error })
        #expect(entries[2].changes.map(\.service) == ["booking"])
        #expect(entries[3].changes.map(\.kind) == [.added, .added])
        #expect(entries[3].changes.map(\.service) == ["booking", "customer"])
        #expect(try await src.history(from: id(shop.c6), path: "manifests", limit: 2).map(\.commit.id.hex) == [shop.c6, shop.c5])
    }

    @Test func historyOfOneServiceFollowsItAcrossTheMove() async throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let src = try source(shop)
        let booking = try await src.history(from: id(shop.c6), path: "manifests", service: "booking")
        #expect(booking.map(\.commit.id.hex) == [shop.c3, shop.c1])
        #expect(booking[1].changes.map(\.kind) == [.added])
        let customer = try await src.history(from: id(shop.c6), path: "manifests", service: "customer")
        #expect(customer.map(\.commit.id.hex) == [shop.c6, shop.c5, shop.c1])
        // Moved and changed in one commit, then renamed again.
        try shop.builder.move("manifests/shop/booking.yml", "manifests/travel/booking.yaml")
        try shop.builder.write("manifests/travel/booking.yaml", ShopHistory.bookingV2.replacingOccurrences(of: "replicas: 3", with: "replicas: 4"))
        let c7 = try shop.builder.commit("Move booking to travel and scale")
        let later = try await src.history(from: id(c7), path: "manifests", service: "booking")
        #expect(later.map(\.commit.id.hex) == [c7, shop.c3, shop.c1])
        #expect(later[0].changes == [ServiceChange(service: "booking", kind: .changed, fields: [
            FieldChange(path: "spec.replicas", from: .int(3), to: .int(4)),
        ])])
        #expect(try await src.history(from: id(c7), path: "manifests", service: "nobody").isEmpty)
    }

    @Test func historyWithMergesAndSince() async throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let b = shop.builder
        try b.git("checkout", "-q", "-b", "side")
        try b.write("manifests/customer.yaml", ShopHistory.customerV2 + "  replicas: 5\n")
        let side = try b.commit("Scale customer on a branch")
        try b.git("checkout", "-q", "main")
        try b.write("notes.txt", "n\n")
        try b.commit("Notes")
        try b.git("merge", "-q", "--no-ff", "-m", "Merge side", "side")
        let merge = try b.sha("HEAD")
        let src = try source(shop)
        let entries = try await src.history(from: id(merge), path: "manifests", service: "customer")
        #expect(entries.map(\.commit.id.hex) == [merge, side, shop.c6, shop.c5, shop.c1])
        #expect(entries[0].changes.first?.fields == [FieldChange(path: "spec.replicas", from: .int(1), to: .int(5))])
        let c6 = try await src.repository.commit(id(shop.c6))
        let recent = try await src.history(from: id(merge), path: "manifests", since: c6.committer.time)
        #expect(recent.map(\.commit.id.hex) == [merge, side, shop.c6])
    }

    @Test func detachedHeadAndPersistentIndex() async throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        try shop.builder.git("checkout", "-q", "--detach", shop.c3)
        let indexRoot = shop.builder.root.path + "/index"
        let src = GitDesiredStateSource(repository: try GitRepository(path: shop.builder.path), historyIndexRoot: indexRoot)
        let head = try await src.repository.resolve("HEAD")
        #expect(head.hex == shop.c3)
        let first = try await src.history(from: head, path: "manifests")
        #expect(first.map(\.commit.id.hex) == [shop.c3, shop.c1])
        let files = try FileManager.default.contentsOfDirectory(atPath: indexRoot)
        #expect(files.count == 1 && files[0].hasSuffix(".history"))
        // A second walk, from a later commit, reads the index for the old commits.
        let again = GitDesiredStateSource(repository: try GitRepository(path: shop.builder.path), historyIndexRoot: indexRoot)
        let second = try await again.history(from: id(shop.c6), path: "manifests")
        #expect(second.map(\.commit.id.hex) == [shop.c6, shop.c5, shop.c3, shop.c1])
        #expect(second[2].changes == first[0].changes)
    }
}
