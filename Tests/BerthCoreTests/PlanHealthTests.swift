import Testing
import BerthCore

@Suite struct PlanHealthTests {
    let spec = Fx.spec("booking", replicas: 3)

    @Test func healthIsOrderedAsArgoOrdersIt() {
        #expect(HealthStatus.allCases.sorted() == [.healthy, .progressing, .missing, .degraded])
        #expect(HealthStatus.degraded.isWorse(than: .missing))
        #expect(!HealthStatus.healthy.isWorse(than: .healthy))
        #expect([HealthStatus.healthy, .missing, .progressing].worst() == .missing)
        #expect([HealthStatus]().worst() == .healthy)
    }

    func assess(_ instances: [Instance], desired: ServiceSpec? = nil) -> String {
        let h = ServiceHealth.assess(desired: desired ?? spec, instances: instances)
        return "\(h.status.rawValue) \(h.sync.rawValue) \(h.readyReplicas)/\(h.desiredReplicas): \(h.message)"
    }

    @Test func sentences() {
        #expect(assess(Fx.instances(of: spec, 3)) == "Healthy Synced 3/3: 3 of 3 replicas ready")
        #expect(assess(Fx.instances(of: spec, 2) + Fx.instances(of: spec, 1, state: .starting, firstIndex: 3))
            == "Progressing Synced 2/3: 2 of 3 replicas ready")
        #expect(assess([]) == "Missing OutOfSync 0/3: no instances running (3 desired)")
        var zero = spec
        zero.replicas = 0
        #expect(assess([], desired: zero) == "Healthy Synced 0/0: scaled to 0")
        #expect(assess(Fx.instances(of: spec, 1) + Fx.instances(of: spec, 2, revision: "0000000000", firstIndex: 2))
            == "Progressing OutOfSync 1/3: waiting for rollout: 1 of 3 new replicas ready")
        #expect(assess(Fx.instances(of: spec, 4)) == "Progressing OutOfSync 4/3: scaling down: 4 running, 3 desired")
        var crashed = Fx.instances(of: spec, 3)
        crashed[0].state = .exited
        crashed[0].exitCode = 137
        crashed[0].restartCount = 1
        #expect(assess(crashed) == "Degraded Synced 2/3: 2 of 3 replicas ready; booking-1 exited with code 137, restarted 1 time")
        let orphan = ServiceHealth.assess(desired: nil, instances: Fx.instances(of: spec, 2))
        #expect(orphan.status == .healthy)
        #expect(orphan.sync == .outOfSync)
        #expect(orphan.message == "not in the desired state: 2 instances would be pruned")
    }

    @Test func statusDocumentHasDesignShapeAndReadsBackAsObservedState() throws {
        var instances = Fx.instances(of: spec, 2)
        instances[1].state = .exited
        instances[1].exitCode = 137
        instances[1].restartCount = 4
        instances[1].commit = Fx.commit
        instances[1].created = "2026-11-25T02:00:00Z"
        let legacy = Instance(id: "legacy-1", service: "legacy", revision: Revision("aaaaaaaaaa"), state: .running)
        let observed = ObservedState(project: "shop", services: [
            ObservedService(name: "legacy", instances: [legacy], dependsOn: ["booking"]),
            ObservedService(name: "booking", instances: instances.reversed()),
        ])
        let report = StatusReport(desired: Fx.desired([spec]), observed: observed)
        let rev = spec.revision.id
        let json = try JSONDecoding.encode(report)
        #expect(json == """
            {
              "formatVersion" : 1,
              "project" : "shop",
              "services" : [
                {
                  "desiredReplicas" : 3,
                  "health" : "Degraded",
                  "image" : "shop/booking:1.0",
                  "instances" : [
                    {
                      "health" : "healthy",
                      "id" : "booking-1",
                      "image" : "shop/booking:1.0",
                      "restartCount" : 0,
                      "revision" : "\(rev)",
                      "state" : "running"
                    },
                    {
                      "commit" : "\(Fx.commit)",
                      "created" : "2026-11-25T02:00:00Z",
                      "exitCode" : 137,
                      "health" : "exited",
                      "id" : "booking-2",
                      "image" : "shop/booking:1.0",
                      "restartCount" : 4,
                      "revision" : "\(rev)",
                      "state" : "exited"
                    }
                  ],
                  "message" : "1 of 3 replicas ready; booking-2 exited with code 137, restarted 4 times",
                  "name" : "booking",
                  "readyReplicas" : 1,
                  "revision" : "\(rev)",
                  "sync" : "OutOfSync"
                },
                {
                  "dependsOn" : [
                    "booking"
                  ],
                  "desiredReplicas" : 0,
                  "health" : "Healthy",
                  "image" : "",
                  "instances" : [
                    {
                      "health" : "healthy",
                      "id" : "legacy-1",
                      "restartCount" : 0,
                      "revision" : "aaaaaaaaaa",
                      "state" : "running"
                    }
                  ],
                  "message" : "not in the desired state: 1 instance would be pruned",
                  "name" : "legacy",
                  "readyReplicas" : 0,
                  "revision" : "",
                  "sync" : "OutOfSync"
                }
              ]
            }
            """)
        let back = try JSONDecoding.observed(json)
        #expect(back == observed.normalized)
        #expect(back.services[0].instances[1].service == "booking")
        // ObservedState's own encoding is a status document too.
        #expect(try JSONDecoding.observed(try JSONDecoding.encode(observed)) == observed)
    }

    @Test func unsupportedFormatVersionIsRefused() {
        #expect(throws: (any Error).self) {
            try JSONDecoding.observed(#"{"formatVersion": 2, "project": "shop", "services": []}"#)
        }
        #expect((try? JSONDecoding.observed(#"{"project": "shop"}"#)) == ObservedState.none(project: "shop"))
    }
}
