import BerthCore
import Testing

/// Status with replicas drained by hand in the balancer (issue 18, finding 3): not counted
/// as ready, marked on the instance, a note on the service, Degraded while fewer serve than
/// desired. Pure: the drains are given as the `HandDrainSource` port returns them.
@Suite struct HandDrainStatusAssessmentTests {
    let spec = Fx.spec("booking", replicas: 2)

    func row(_ instances: [Instance], _ drains: [HandDrain]) -> StatusReport.Service {
        let observed = ObservedState(project: "shop", services: [ObservedService(name: "booking", instances: instances)])
        let report = StatusReport(
            desired: Fx.desired([spec]), observed: observed, context: StatusContext(handDrains: drains))
        return report.services[0]
    }

    static func drain(_ id: String, _ since: String = "2026-12-08T00:10:00Z") -> HandDrain {
        HandDrain(instance: id, service: "booking", since: since)
    }

    @Test func oneOfTwoDrainedIsDegradedOneReadyAndSaysHowToReturnIt() {
        let r = row(Fx.instances(of: spec, 2), [Self.drain("booking-2")])
        #expect("\(r.health.rawValue) \(r.sync.rawValue) \(r.readyReplicas)/\(r.desiredReplicas)" == "Degraded Synced 1/2")
        #expect(
            r.message
                == "1 of 2 replicas ready; 1 replica drained by hand in berth proxy since 2026-12-08T00:10:00Z "
                + "(out of rotation: booking-2; POST /v1/ready to the proxy's control API returns it)")
        #expect(r.instances.map(\.drainedByHand) == [nil, "2026-12-08T00:10:00Z"])
        #expect(r.instances.map(\.state) == [.running, .running])
    }

    @Test func everyReplicaDrainedNamesThemAllWithTheEarliestTime() {
        let r = row(
            Fx.instances(of: spec, 2), [Self.drain("booking-2", "2026-12-08T00:11:00Z"), Self.drain("booking-1")])
        #expect("\(r.health.rawValue) \(r.readyReplicas)/\(r.desiredReplicas)" == "Degraded 0/2")
        #expect(
            r.message
                == "0 of 2 replicas ready; 2 replicas drained by hand in berth proxy since 2026-12-08T00:10:00Z "
                + "(out of rotation: booking-1, booking-2; POST /v1/ready to the proxy's control API returns them)")
    }

    @Test func drainsOfOtherOrExitedInstancesChangeNothing() {
        var instances = Fx.instances(of: spec, 2)
        let healthy = row(instances, [Self.drain("other-9")])
        #expect("\(healthy.health.rawValue) \(healthy.readyReplicas)/2: \(healthy.message)" == "Healthy 2/2: 2 of 2 replicas ready")
        #expect(healthy.instances.allSatisfy { $0.drainedByHand == nil })
        instances[1].state = .exited
        let exited = row(instances, [Self.drain("booking-2")])
        #expect(exited.instances.allSatisfy { $0.drainedByHand == nil })
        #expect(!exited.message.contains("drained by hand"))
    }

    @Test func theInstanceFieldIsInTheJSONOnlyWhenSet() throws {
        let r = row(Fx.instances(of: spec, 1), [Self.drain("booking-1")])
        let json = try JSONDecoding.encode(r.instances[0])
        #expect(json.contains("\"drainedByHand\" : \"2026-12-08T00:10:00Z\""))
        let plain = try JSONDecoding.encode(Fx.instances(of: spec, 1)[0])
        #expect(!plain.contains("drainedByHand"))
    }
}
