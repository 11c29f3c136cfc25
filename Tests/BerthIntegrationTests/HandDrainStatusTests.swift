import BerthTestSupport
import Foundation
import Testing

/// Issue 18, finding 3 (rest): a replica drained by hand in `berth proxy` (a control call
/// with the token and no hold) served no client while `berth status` and watch's status
/// said Healthy. Now both name it: not counted as ready, `drainedByHand` on the instance,
/// the service Degraded while fewer replicas serve than desired, and a note that says how
/// to return it. Real `berth watch` (which starts the proxy), real dockerd, real `berth status`.
@Suite("Status shows replicas drained by hand", .serialized)
struct HandDrainStatusTests {
    /// `POST path` to the proxy's control API with the token of its state file.
    static func control(_ h: WatchHarness, _ path: String, _ body: String) throws -> String {
        let data = try #require(FileManager.default.contents(atPath: "\(h.state.path)/proxy-\(h.project).json"))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let port = try #require(doc["controlPort"] as? Int)
        let token = try #require(doc["controlToken"] as? String)
        return try sh([
            "curl", "-s", "-m", "10", "-X", "POST", "-H", "Authorization: Bearer \(token)", "--data", body,
            "http://127.0.0.1:\(port)\(path)",
        ]).out
    }

    static func service(_ document: [String: Any]) -> [String: Any] {
        (document["services"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "customer" } ?? [:]
    }

    /// `berth status --format json` for the harness's project, decoded.
    static func status(_ h: WatchHarness, _ format: String = "json") throws -> (out: String, status: Int32) {
        try sh([
            WatchHarness.binary.path, "status", "--repo", h.repo.path, "--project", h.project, "--state-dir", h.state.path,
            "--format", format,
        ])
    }

    @Test func aReplicaDrainedByHandIsShownAndNotCountedUntilReady() throws {
        let h = try WatchHarness()
        defer {
            h.terminate()
            stopProxiesOf(h)
            h.stop()
        }
        let publish = try freeHostPort()
        try h.commit(
            ["manifests/customer.yaml": zeroDowntimeManifest(image: "shop/customer:1.0", replicas: 2, publish: publish)],
            "customer x2")
        try h.start(interval: "1s", extraArguments: ["--proxy-bind", "127.0.0.1"])
        try #require(eventually(within: 40) { h.healthyServices() == ["customer"] }, "\(h.log())")
        let running = try Docker.running(h.project)
        #expect(running.count == 2)
        let drainedID = running[0]

        // Drained by hand, as an operator with the token would with curl.
        let drained = try Self.control(h, "/v1/drain", #"{"instance":"\#(drainedID)","graceMs":0}"#)
        #expect(drained.contains("\"known\":true"), "\(drained)")

        // watch's status API.
        var since = ""
        let degraded = eventually(within: 10) {
            guard let document = try? h.json("/api/v1/status") else { return false }
            let service = Self.service(document)
            let instance = (service["instances"] as? [[String: Any]] ?? []).first { $0["id"] as? String == drainedID }
            since = instance?["drainedByHand"] as? String ?? ""
            return service["health"] as? String == "Degraded"
        }
        #expect(degraded, "\((try? h.json("/api/v1/status")) ?? [:])")
        #expect(since.count == 20 && since.hasSuffix("Z"), "\(since)")
        let note = "1 replica drained by hand in berth proxy since \(since) (out of rotation: \(drainedID.prefix(12)); "
            + "POST /v1/ready to the proxy's control API returns it)"
        let api = Self.service(try h.json("/api/v1/status"))
        #expect(api["readyReplicas"] as? Int == 1)
        #expect(api["desiredReplicas"] as? Int == 2)
        #expect(api["sync"] as? String == "Synced")
        #expect(api["message"] as? String == "1 of 2 replicas ready; \(note)")
        let apiInstances = api["instances"] as? [[String: Any]] ?? []
        #expect(apiInstances.compactMap { $0["drainedByHand"] as? String } == [since])

        // berth status, JSON and text.
        let json = try Self.status(h)
        #expect(json.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let row = Self.service(document)
        #expect(row["health"] as? String == "Degraded")
        #expect(row["readyReplicas"] as? Int == 1)
        #expect(row["message"] as? String == "1 of 2 replicas ready; \(note)")
        let instances = row["instances"] as? [[String: Any]] ?? []
        #expect(instances.first { $0["id"] as? String == drainedID }?["drainedByHand"] as? String == since)
        #expect(instances.first { $0["id"] as? String == running[1] }?["drainedByHand"] == nil)
        let text = try Self.status(h, "text")
        #expect(text.status == 0)
        let cells = TruthfulStatusTests.row(text.out, "customer") ?? []
        #expect(Array(cells.dropFirst(3)) == ["1/2", "Synced", "Degraded", "1 of 2 replicas ready; \(note)"], "\(text.out)")

        // Ready again: serving, counted, Healthy.
        #expect(try Self.control(h, "/v1/ready", #"{"instance":"\#(drainedID)"}"#).contains("\"state\":\"ready\""))
        #expect(eventually(within: 10) { h.healthyServices() == ["customer"] })
        let after = try JSONSerialization.jsonObject(with: Data(try Self.status(h).out.utf8)) as? [String: Any] ?? [:]
        #expect(Self.service(after)["health"] as? String == "Healthy")
        #expect(Self.service(after)["readyReplicas"] as? Int == 2)
        #expect(Self.service(after)["message"] as? String == "2 of 2 replicas ready")
        #expect(!(try Self.status(h).out).contains("drainedByHand"))
    }
}
