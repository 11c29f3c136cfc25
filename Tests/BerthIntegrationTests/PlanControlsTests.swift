import BerthTestSupport
import Foundation
import Testing

/// Issue 17 ("plan and watch disagree"): `berth plan` is what `berth apply` and `berth watch`
/// do, operator controls included. After `berth scale`, `berth suspend` or `berth rollback`,
/// apply and watch plan through the controls (`<state-dir>/controls.json`), and plan used to
/// ignore them: a CI's `plan --detailed-exitcode` said 2 ("changes") for a project that apply
/// would leave as it is. Plan reads the controls read-only: it never ends a pin or override
/// itself (the file and the journal are left alone); it says when apply would.
@Suite struct PlanControlsTests {
    struct PlanDocument: Decodable, Equatable {
        struct Endpoint: Decodable, Equatable { var revision: String; var replicas: Int }
        struct Step: Decodable, Equatable {
            var action: String
            var service: String
            var from: Endpoint?
            var to: Endpoint?
        }
        struct Note: Decodable, Equatable {
            var kind: String
            var service: String
            var instances: [String]
            var message: String
        }
        var prune: Bool?
        var steps: [Step]
        var notes: [Note]
    }

    static func planJSON(_ shop: Shop, status expected: Int32) throws -> PlanDocument {
        let r = try shop.berth("plan", ["--detailed-exitcode", "--format", "json"])
        #expect(r.status == expected, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr == "")
        return try JSONDecoder().decode(PlanDocument.self, from: Data(r.stdout.utf8))
    }

    /// `plan --detailed-exitcode`, in text and in JSON: no step (exit 0), and `message` as
    /// the one note (of `kind`) on `service`. Returns the text.
    static func expectNoStepButANote(
        _ shop: Shop, head: String, kind: String, service: String, message: String
    ) throws -> String {
        let plan = try shop.berth("plan", ["--detailed-exitcode"])
        #expect(plan == ProcessResult(
            stdout: """
                Berth plan for project \(shop.project) at commit \(head.prefix(7)) (prune: on)

                No changes. Desired state matches what runs.

                Not changed:
                  \(service): \(message)

                """,
            stderr: "", status: 0))
        #expect(try planJSON(shop, status: 0) == PlanDocument(
            prune: true, steps: [], notes: [.init(kind: kind, service: service, instances: [], message: message)]))
        return plan.stdout
    }

    /// berth apply prints `plan` as its plan, and succeeds.
    static func expectApplyPrints(_ plan: String, _ shop: Shop) throws {
        let apply = try shop.apply()
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(apply.stdout.hasPrefix(plan), "\(apply.stdout)")
    }

    static func controlsFile(_ shop: Shop) -> String { shop.state.path + "/berth/" + shop.project + "/controls.json" }

    static func row(_ shop: Shop, _ name: String) throws -> [String: Any] {
        try #require(DayTwoControlTests.service(
            try DayTwoControlTests.statusJSON(try shop.berth("status", ["--format", "json"])), name))
    }

    @Test func afterBerthScalePlanHasNoScaleStepAndSaysWhy() async throws {
        let shop = try await Shop("plan-scale")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        let head = try shop.commit("customer x1")
        #expect(try shop.apply().status == 0)
        let scale = try shop.berth("scale", ["customer", "3"], environment: DayTwoControlTests.operatorEnvironment)
        #expect(scale.status == 0, "\(scale.stderr)")
        #expect(try Docker.running(shop.project, service: "customer").count == 3)
        let at = try #require((try Self.row(shop, "customer")["scaled"] as? [String: Any])?["at"] as? String)
        let by = try DayTwoControlTests.actor()
        let message = "scaled to 3 by \(by) at \(at) with berth scale (git: 1), until a commit changes it"

        let plan = try Self.expectNoStepButANote(shop, head: head, kind: "scaled", service: "customer", message: message)

        // berth apply prints the same plan, and changes nothing.
        try Self.expectApplyPrints(plan, shop)
        #expect(try Docker.running(shop.project, service: "customer").count == 3)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func aSuspendedServiceGetsNoStepFromACommitThatChangesItAndPlanSaysItIsSuspended() async throws {
        let shop = try await Shop("plan-suspend")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.service("other", image: "shop/customer:1.0", replicas: 1)
        try shop.commit("two services")
        #expect(try shop.apply().status == 0)
        let suspend = try shop.berth("suspend", ["customer"], environment: DayTwoControlTests.operatorEnvironment)
        #expect(suspend.status == 0, "\(suspend.stderr)")
        let at = try #require((try Self.row(shop, "customer")["suspended"] as? [String: Any])?["at"] as? String)
        let by = try DayTwoControlTests.actor()
        try shop.service("customer", image: "shop/customer:1.0", replicas: 2)
        let head = try shop.commit("customer x2")
        let message = "suspended by \(by) at \(at): berth apply and berth watch leave it alone until berth resume customer"

        let plan = try Self.expectNoStepButANote(shop, head: head, kind: "suspended", service: "customer", message: message)

        try Self.expectApplyPrints(plan, shop)
        #expect(try Docker.running(shop.project, service: "customer").count == 1)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func whilePinnedPlanShowsNoUpdateBackToGitAndACommitThatEndsThePinIsOnlyAnnounced() async throws {
        let shop = try await Shop("plan-pin")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 2)
        let first = try shop.commit("customer 1.0")
        try shop.service("customer", image: "shop/customer:1.1", replicas: 2)
        let head = try shop.commit("customer 1.1")
        #expect(try shop.apply().status == 0)
        let rollback = try shop.berth("rollback", ["customer"], environment: DayTwoControlTests.operatorEnvironment)
        #expect(rollback.status == 0, "\(rollback.stderr)")
        let pinned = try #require(try Self.row(shop, "customer")["pinned"] as? [String: Any])
        let pinnedRevision = try #require(pinned["revision"] as? String)
        let at = try #require(pinned["at"] as? String)
        let by = try DayTwoControlTests.actor()
        let message = "pinned to revision \(pinnedRevision) (\(first.prefix(7))) by \(by) at \(at) with berth rollback, until a commit changes its revision"

        let plan = try Self.expectNoStepButANote(shop, head: head, kind: "pinned", service: "customer", message: message)

        // A commit that changes customer's revision ends the pin — when apply or watch syncs
        // it. Plan shows the update to git's revision and says the pin would be released,
        // but releases nothing: the controls file and the journal stay as they were.
        let controls = try #require(FileManager.default.contents(atPath: Self.controlsFile(shop)))
        try shop.service("customer", image: "shop/customer:1.1", replicas: 2, env: ["MODE": "new"])
        let newer = try shop.commit("customer 1.1 with MODE")
        let planned = try Self.planJSON(shop, status: 2)
        let gitRevision = try #require(planned.steps.first?.to?.revision)
        #expect(gitRevision != pinnedRevision)
        let release = "rollback pin would be released by berth apply or berth watch: commit \(newer.prefix(7)) changes customer (revision \(gitRevision))"
        #expect(planned == PlanDocument(
            prune: true,
            steps: [.init(
                action: "update", service: "customer", from: .init(revision: pinnedRevision, replicas: 2),
                to: .init(revision: gitRevision, replicas: 2))],
            notes: [.init(kind: "released", service: "customer", instances: [], message: release)]))
        let text = try shop.berth("plan")
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasSuffix("\nPlan: 0 to create, 1 to update, 0 to scale, 0 to heal, 0 to delete.\n\nNot changed:\n  customer: \(release)\n"), "\(text.stdout)")
        #expect(FileManager.default.contents(atPath: Self.controlsFile(shop)) == controls)
        #expect(!(try shop.berth("journal").stdout.contains("unpin")))

        // apply releases it (journaled), and rolls git's revision out.
        #expect(try shop.apply().status == 0)
        #expect(try shop.berth("journal").stdout.contains("    unpin customer  succeeded  0ms  commit \(newer.prefix(7)) changes customer"))
        #expect(DayTwoControlTests.images(try await shop.containers("customer")) == ["shop/customer:1.1", "shop/customer:1.1"])
        #expect(try Self.planJSON(shop, status: 0) == PlanDocument(prune: true, steps: [], notes: []))
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }
}
