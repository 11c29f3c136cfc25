import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// `berth apply` with images from a real registry on loopback: a tag bump pulls and rolls
/// out (progress on stderr, the digest in the journal and on the containers); an unknown tag
/// fails before anything is stopped and keeps the old replicas.
@Suite(.serialized) struct PullApplyTests {
    @Test func aTagBumpPullsAndRollsOutAndAnUnknownTagKeepsTheOldReplicas() async throws {
        let registry = try LoopbackRegistry()
        defer { registry.stop() }
        let (v1, digest1) = try registry.push("shop/customer:1.0", as: "pull/customer", tag: "1.0")
        let (v2, digest2) = try registry.push("shop/customer:1.1", as: "pull/customer", tag: "1.1")
        let repository = "\(registry.host)/pull/customer"
        defer { for r in [v1, v2] { _ = try? docker(["rmi", "-f", r]) } }
        for r in [v1, v2] { _ = try? docker(["rmi", "-f", r]) }
        let shop = try await Shop("pull")
        defer { shop.cleanup() }
        let state = try TemporaryDirectory(prefix: "berth-pull-state")
        defer { state.remove() }

        try shop.service("customer", image: v1, replicas: 2)
        try shop.commit("customer 1.0 from the registry")
        let first = try shop.apply(["--state-dir", state.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("customer: pulling: Digest: \(digest1)\n"))
        #expect(first.stderr.contains("customer: pulling: Status: Downloaded newer image for \(v1)\n"))
        let oldIDs = Set(try await shop.containers("customer").map(\.Id))
        #expect(oldIDs.count == 2)

        // A commit that bumps the tag: pulled, then rolled out.
        try shop.service("customer", image: v2, replicas: 2)
        try shop.commit("customer 1.1")
        let second = try shop.apply(["--state-dir", state.path])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("customer: pulling: Status: Downloaded newer image for \(v2)\n"))
        let now = try await shop.containers("customer")
        #expect(now.count == 2 && Set(now.map(\.Id)).isDisjoint(with: oldIDs))
        #expect(now.allSatisfy { $0.Labels?[BerthLabel.imageDigest] == "\(repository)@\(digest2)" })
        #expect(second.stderr.contains("customer: image \(repository)@\(digest2)\n"))

        // An unknown tag: the registry's message, nothing stopped, the old replicas kept.
        let before = Set(now.map(\.Id))
        try shop.service("customer", image: "\(repository):9.9", replicas: 2)
        try shop.commit("customer 9.9, which was never pushed")
        let third = try shop.apply(["--state-dir", state.path])
        #expect(third.status == 1)
        #expect(third.stderr.contains(
            "customer: update failed: pulling image \(repository):9.9: manifest for \(repository):9.9 not found: manifest unknown"), "\(third.stderr)")
        #expect(third.stderr.contains("nothing was stopped"))
        // No instance was drained or stopped ("customer: 3f2a9c1d7b4e stopped").
        let stops = third.stderr.split(separator: "\n").filter { $0.hasSuffix(" draining") || $0.hasSuffix(" stopped") }
        #expect(stops.allSatisfy { $0.hasSuffix("nothing was stopped") }, "\(third.stderr)")
        let after = try await shop.containers("customer")
        #expect(Set(after.map(\.Id)) == before)
        #expect(after.allSatisfy { $0.State == "running" })

        // Pinned by digest: exactly that digest runs.
        try shop.service("customer", image: "\(repository)@\(digest1)", replicas: 2)
        try shop.commit("customer pinned to 1.0's digest")
        let fourth = try shop.apply(["--state-dir", state.path])
        #expect(fourth.status == 0, "\(fourth.stderr)")
        let pinned = try await shop.containers("customer")
        #expect(pinned.count == 2)
        #expect(pinned.allSatisfy { $0.Labels?[BerthLabel.imageDigest] == "\(repository)@\(digest1)" })
        let version = try await shop.runtime.client.exec(try #require(pinned.first).Id, ["/bin/busybox", "wget", "-qO-", "http://localhost:8080/version"])
        #expect(version.stdout == "customer 1.0\n")
        _ = try? docker(["rmi", "-f", "\(repository)@\(digest1)"])
    }
}
