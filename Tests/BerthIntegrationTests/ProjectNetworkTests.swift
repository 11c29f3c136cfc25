import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// Issue 11: the project network is found by label, and duplicates (two `berth-<project>`
/// networks, as racing applies of older versions left them) are repaired: the one in use is
/// kept, the empty one removed. Real dockerd, the built binary.
@Suite(.serialized) struct ProjectNetworkTests {
    @Test func duplicateProjectNetworksAreRepairedKeepingTheOneInUse() async throws {
        let shop = try await Shop("dupnet")
        defer { shop.cleanup() }
        try shop.service("web", image: "shop/customer:1.0", replicas: 1)
        try shop.commit("web x1")
        // Two networks of the project's name and label; dockerd lets that happen to two
        // creates at the same moment (made here with CheckDuplicate off).
        let first = try shop.createDuplicateNetwork()
        let second = try shop.createDuplicateNetwork()
        #expect(Set(try shop.networks()) == Set([first, second].map { String($0.prefix(12)) }))

        let r = try shop.apply()
        #expect(r.status == 0, "\(r.stderr)")
        let kept = try shop.networks()
        #expect(kept.count == 1)
        #expect([first, second].map { String($0.prefix(12)) }.contains(kept.first ?? ""))
        #expect(try shop.status().summary == ["web Synced Healthy 1/1"])

        // Another duplicate appears beside the network in use: the next apply removes it,
        // whatever the ids, and the running replica keeps its network.
        let third = try shop.createDuplicateNetwork()
        try shop.service("web", image: "shop/customer:1.0", replicas: 2)
        try shop.commit("web x2")
        let again = try shop.apply()
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try shop.networks() == kept, "third: \(third.prefix(12))")
        #expect(try shop.status().summary == ["web Synced Healthy 2/2"])
        // Both replicas find each other on it by name.
        let containers = try await shop.containers()
        #expect(containers.count == 2)
        let answer = try await shop.runtime.client.exec(
            try #require(containers.first?.Id), ["/bin/busybox", "wget", "-q", "-O", "-", "http://web:8080/version"])
        #expect(answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "customer 1.0")
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }
}

extension Shop {
    /// A bridge network named `berth-<project>` with the project's label, made even when one
    /// exists (Engine API, `CheckDuplicate: false`); returns its id.
    func createDuplicateNetwork() throws -> String {
        let body = "{\"Name\":\"\(BerthNaming.network(project: project))\",\"CheckDuplicate\":false,\"Driver\":\"bridge\",\"Labels\":{\"berth.project\":\"\(project)\"}}"
        let out = try sh([
            "curl", "-s", "--unix-socket", "/var/run/docker.sock", "-X", "POST", "-H", "Content-Type: application/json",
            "-d", body, "http://localhost/v1.41/networks/create",
        ]).out
        let doc = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        guard let id = doc?["Id"] as? String else { throw TestFailure("creating a duplicate network: \(out)") }
        return id
    }
}
