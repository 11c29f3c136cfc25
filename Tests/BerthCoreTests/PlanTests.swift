import Testing
import BerthCore

@Suite struct PlanTests {
    let customer = Fx.spec("customer", replicas: 2)
    var booking: ServiceSpec { Fx.spec("booking", image: "shop/booking:1.4.2", replicas: 3, dependsOn: ["customer"]) }

    @Test func createFromNothingInDependencyOrder() throws {
        let plan = try Fx.plan(Fx.desired([booking, customer]), .none(project: "shop"))
        let c = customer.revision.id, b = booking.revision.id
        #expect(plan.jsonText() == """
            {
              "formatVersion" : 1,
              "notes" : [

              ],
              "project" : "shop",
              "prune" : false,
              "revision" : "\(Fx.commit)",
              "steps" : [
                {
                  "action" : "create",
                  "reason" : "new service: nothing runs yet",
                  "service" : "customer",
                  "to" : {
                    "image" : "shop/customer:1.0",
                    "replicas" : 2,
                    "revision" : "\(c)"
                  },
                  "wave" : 0
                },
                {
                  "action" : "create",
                  "reason" : "new service: nothing runs yet",
                  "service" : "booking",
                  "to" : {
                    "image" : "shop/booking:1.4.2",
                    "replicas" : 3,
                    "revision" : "\(b)"
                  },
                  "wave" : 1
                }
              ],
              "summary" : {
                "create" : 2,
                "delete" : 0,
                "heal" : 0,
                "scale" : 0,
                "update" : 0
              }
            }

            """)
    }

    @Test func scaleToZeroStopsEveryInstance() throws {
        var zero = customer
        zero.replicas = 0
        let plan = try Fx.plan(Fx.desired([zero]), Fx.observed([Fx.instances(of: customer, 3)]))
        #expect(lines(plan) == [
            "0 scale customer: replicas 3 → 0 | from shop/customer:1.0 x3 | to shop/customer:1.0 x0 | [customer-1, customer-2, customer-3]",
        ])
    }

    @Test func scaleAndUpdateTogetherAreOneUpdate() throws {
        var old = booking
        old.image = "shop/booking:1.4.1"
        old.replicas = 2
        let plan = try Fx.plan(
            Fx.desired([booking, customer]),
            Fx.observed([Fx.instances(of: old, 2), Fx.instances(of: customer, 2)]))
        #expect(lines(plan) == [
            "0 update booking: image shop/booking:1.4.1 → shop/booking:1.4.2; replicas 2 → 3 | from shop/booking:1.4.1 x2 | to shop/booking:1.4.2 x3 | rolling, maxSurge 1, maxUnavailable 0 | [booking-1, booking-2]",
        ])
        #expect(plan.steps[0].from?.revision == old.revision.id)
        #expect(plan.steps[0].to?.revision == booking.revision.id)
    }

    @Test func updateOfADependencyComesFirst() throws {
        let db = Fx.spec("db", image: "postgres:16")
        let api = Fx.spec("api", image: "shop/api:2", replicas: 2, dependsOn: ["db"],
                          update: UpdatePolicy(strategy: .recreate))
        let web = Fx.spec("web", dependsOn: ["api"])
        let oldDB = Fx.spec("db", image: "postgres:15")
        let oldAPI = Fx.spec("api", image: "shop/api:1", replicas: 2, dependsOn: ["db"],
                             update: UpdatePolicy(strategy: .recreate))
        let plan = try Fx.plan(
            Fx.desired([web, api, db]),
            Fx.observed([Fx.instances(of: oldDB, 1), Fx.instances(of: oldAPI, 2), Fx.instances(of: web, 1)]))
        #expect(lines(plan) == [
            "0 update db: image postgres:15 → postgres:16 | from postgres:15 x1 | to postgres:16 x1 | rolling, maxSurge 1, maxUnavailable 0 | [db-1]",
            "1 update api: image shop/api:1 → shop/api:2 | from shop/api:1 x2 | to shop/api:2 x2 | recreate | [api-1, api-2]",
        ])
    }

    /// The example: `api` depends on `db`; with nothing to do for `db`, the update of
    /// `api` waits for nothing and shares wave 0 with an unrelated create. Once `db` has a
    /// step too, `api` comes one wave after it.
    @Test func aStepWhoseDependenciesHaveNoStepsIsInWaveZero() throws {
        let db = Fx.spec("db", image: "postgres:16")
        let api = Fx.spec("api", image: "shop/api:2", dependsOn: ["db"])
        let oldAPI = Fx.spec("api", image: "shop/api:1", dependsOn: ["db"])
        let cache = Fx.spec("cache")
        let observed = Fx.observed([Fx.instances(of: db, 1), Fx.instances(of: oldAPI, 1)])
        let plan = try Fx.plan(Fx.desired([db, api, cache]), observed)
        #expect(lines(plan) == [
            "0 create cache: new service: nothing runs yet | to shop/cache:1.0 x1",
            "0 update api: image shop/api:1 → shop/api:2 | from shop/api:1 x1 | to shop/api:2 x1 | rolling, maxSurge 1, maxUnavailable 0 | [api-1]",
        ])
        let twoDBs = Fx.spec("db", image: "postgres:16", replicas: 2)
        let both = try Fx.plan(Fx.desired([twoDBs, api, cache]), observed)
        #expect(lines(both) == [
            "0 create cache: new service: nothing runs yet | to shop/cache:1.0 x1",
            "0 scale db: replicas 1 → 2 | from postgres:16 x1 | to postgres:16 x2",
            "1 update api: image shop/api:1 → shop/api:2 | from shop/api:1 x1 | to shop/api:2 x1 | rolling, maxSurge 1, maxUnavailable 0 | [api-1]",
        ])
    }

    /// Dependencies count transitively, through services that have no step: web → api → db
    /// with steps for web and db puts web after db; edge → mid → base with a step for edge
    /// alone puts edge in wave 0, however deep it sits in the graph.
    @Test func wavesFollowDependenciesThroughServicesWithoutSteps() throws {
        let db = Fx.spec("db", image: "postgres:16"), oldDB = Fx.spec("db", image: "postgres:15")
        let api = Fx.spec("api", dependsOn: ["db"])
        let web = Fx.spec("web", replicas: 2, dependsOn: ["api"])
        let base = Fx.spec("base"), mid = Fx.spec("mid", dependsOn: ["base"]), edge = Fx.spec("edge", dependsOn: ["mid"])
        let plan = try Fx.plan(
            Fx.desired([db, api, web, base, mid, edge]),
            Fx.observed([
                Fx.instances(of: oldDB, 1), Fx.instances(of: api, 1), Fx.instances(of: web, 1),
                Fx.instances(of: base, 1), Fx.instances(of: mid, 1), Fx.instances(of: edge, 1, state: .unhealthy),
            ]))
        #expect(lines(plan) == [
            "0 update db: image postgres:15 → postgres:16 | from postgres:15 x1 | to postgres:16 x1 | rolling, maxSurge 1, maxUnavailable 0 | [db-1]",
            "0 heal edge: edge-1 is unhealthy | from shop/edge:1.0 x1 | to shop/edge:1.0 x1 | [edge-1]",
            "1 scale web: replicas 1 → 2 | from shop/web:1.0 x1 | to shop/web:1.0 x2",
        ])
    }

    /// Deletes, the same rule in reverse: after every other step, a delete waits only for
    /// the deletes of services that depend on it, directly or through a service no longer
    /// desired that has no instance left (old-worker → old-queue → old-cache).
    @Test func deletesWaitOnlyForTheDeletesOfTheirDependents() throws {
        let names = ["old-db", "old-api", "old-web", "old-cron", "old-worker", "old-cache"]
        var observed = Fx.observed([Fx.instances(of: customer, 1)] + names.map { Fx.instances(of: Fx.spec($0), 1) })
        let dependsOn = ["old-api": ["old-db"], "old-web": ["old-api"], "old-worker": ["old-queue"]]
        for i in observed.services.indices { observed.services[i].dependsOn = dependsOn[observed.services[i].name] ?? [] }
        observed.services.append(ObservedService(name: "old-queue", instances: [], dependsOn: ["old-cache"]))
        let plan = try Fx.plan(Fx.desired([customer]), observed, prune: true, allowMassDelete: true)
        #expect(lines(plan) == [
            "0 scale customer: replicas 1 → 2 | from shop/customer:1.0 x1 | to shop/customer:1.0 x2",
            "1 delete old-cron: not in the desired state | from shop/old-cron:1.0 x1 | [old-cron-1]",
            "1 delete old-web: not in the desired state | from shop/old-web:1.0 x1 | [old-web-1]",
            "1 delete old-worker: not in the desired state | from shop/old-worker:1.0 x1 | [old-worker-1]",
            "2 delete old-api: not in the desired state | from shop/old-api:1.0 x1 | [old-api-1]",
            "2 delete old-cache: not in the desired state | from shop/old-cache:1.0 x1 | [old-cache-1]",
            "3 delete old-db: not in the desired state | from shop/old-db:1.0 x1 | [old-db-1]",
        ])
        // With nothing else to do, deletes start at wave 0.
        let onlyDeletes = try Fx.plan(
            Fx.desired([Fx.spec("customer", replicas: 1)]), observed, prune: true, allowMassDelete: true)
        #expect(onlyDeletes.steps.map { "\($0.wave) \($0.service)" } == [
            "0 old-cron", "0 old-web", "0 old-worker", "1 old-api", "1 old-cache", "2 old-db",
        ])
    }

    @Test func unrelatedStepsShareAWaveAndSortByActionThenName() throws {
        let a = Fx.spec("alpha"), z = Fx.spec("zulu", replicas: 2), m = Fx.spec("mike")
        let plan = try Fx.plan(Fx.desired([z, a, m]), Fx.observed([Fx.instances(of: z, 1), Fx.instances(of: m, 1, state: .unhealthy)]))
        #expect(lines(plan) == [
            "0 create alpha: new service: nothing runs yet | to shop/alpha:1.0 x1",
            "0 scale zulu: replicas 1 → 2 | from shop/zulu:1.0 x1 | to shop/zulu:1.0 x2",
            "0 heal mike: mike-1 is unhealthy | from shop/mike:1.0 x1 | to shop/mike:1.0 x1 | [mike-1]",
        ])
    }

    @Test func dependencyCycleIsSpelledOut() throws {
        let a = Fx.spec("a", dependsOn: ["c"]), b = Fx.spec("b", dependsOn: ["a"]), c = Fx.spec("c", dependsOn: ["b"])
        #expect(throws: PlanError.dependencyCycle([["a", "c", "b", "a"]])) {
            try Fx.plan(Fx.desired([a, b, c]), .none(project: "shop"))
        }
        #expect(throws: PlanError.dependencyCycle([["self", "self"]])) {
            try Fx.plan(Fx.desired([Fx.spec("self", dependsOn: ["self"]), a]), .none(project: "shop"))
        }
        #expect(PlanError.dependencyCycle([["a", "c", "b", "a"]]).description
            == "dependsOn has a dependency cycle: a → c → b → a; services in a cycle can never start in order: remove one dependsOn entry of each cycle")
    }

    @Test func healsACrashLoopingInstanceAndSaysWhy() throws {
        var crashed = Fx.instances(of: customer, 2)
        crashed[1].state = .exited
        crashed[1].exitCode = 137
        crashed[1].restartCount = 4
        let plan = try Fx.plan(Fx.desired([customer]), Fx.observed([crashed]))
        #expect(lines(plan) == [
            "0 heal customer: customer-2 exited with code 137, restarted 4 times | from shop/customer:1.0 x2 | to shop/customer:1.0 x2 | [customer-2]",
        ])
    }

    @Test func restartPolicyDecidesWhichExitedInstancesAreHealed() throws {
        func exited(_ spec: ServiceSpec, code: Int) -> [Instance] {
            var i = Fx.instances(of: spec, 1)
            i[0].state = .exited
            i[0].exitCode = code
            return i
        }
        let never = Fx.spec("never", restart: .never)
        let onFailure0 = Fx.spec("done", restart: .onFailure)
        let onFailure1 = Fx.spec("broken", restart: .onFailure)
        let plan = try Fx.plan(
            Fx.desired([never, onFailure0, onFailure1]),
            Fx.observed([exited(never, code: 1), exited(onFailure0, code: 0), exited(onFailure1, code: 2)]))
        #expect(lines(plan) == [
            "0 heal broken: broken-1 exited with code 2 | from shop/broken:1.0 x1 | to shop/broken:1.0 x1 | [broken-1]",
        ])
    }

    @Test func scaleDownStopsFailingInstancesFirst() throws {
        var spec = customer
        spec.replicas = 2
        var four = Fx.instances(of: spec, 4)
        four[0].state = .exited
        four[0].exitCode = 1
        four[2].state = .unhealthy
        var one = spec
        one.replicas = 1
        let down = try Fx.plan(Fx.desired([one]), Fx.observed([four]))
        #expect(lines(down) == [
            "0 scale customer: replicas 4 → 1 | from shop/customer:1.0 x4 | to shop/customer:1.0 x1 | [customer-1, customer-3, customer-4]",
        ])
        var three = spec
        three.replicas = 3
        let partly = try Fx.plan(Fx.desired([three]), Fx.observed([four]))
        #expect(lines(partly) == [
            "0 scale customer: replicas 4 → 3 | from shop/customer:1.0 x4 | to shop/customer:1.0 x3 | [customer-1]",
            "0 heal customer: customer-3 is unhealthy | from shop/customer:1.0 x3 | to shop/customer:1.0 x3 | [customer-3]",
        ])
    }

    @Test func strayRevisionsCountAsOld() throws {
        var instances = Fx.instances(of: customer, 2)
        instances[1].revision = Revision("ffffffffff")
        let plan = try Fx.plan(Fx.desired([customer]), Fx.observed([instances]))
        #expect(lines(plan) == [
            "0 update customer: spec changed (revision ffffffffff → \(customer.revision.id)) | from shop/customer:1.0 x2 | to shop/customer:1.0 x2 | rolling, maxSurge 1, maxUnavailable 0 | [customer-2]",
        ])
    }

    @Test func anUpdateNamesEveryInstanceItStops() throws {
        var current = Fx.instances(of: customer, 3)
        current[1].state = .unhealthy
        let old = Fx.instances(of: customer, 1, revision: "0000000000", firstIndex: 4)
        let plan = try Fx.plan(Fx.desired([Fx.spec("customer", replicas: 1)]), Fx.observed([current + old]))
        // The old one, the unhealthy one, and one healthy one beyond the replica count.
        #expect(plan.steps.map(\.instances) == [["customer-2", "customer-3", "customer-4"]])
    }

    @Test func spelledOutDefaultsAreNoChange() throws {
        let implicit = Fx.spec("customer")
        var explicit = ServiceSpec(
            name: "customer", image: "shop/customer:1.0", replicas: 1, env: [:], ports: [], dependsOn: [],
            update: UpdatePolicy(strategy: .rolling, maxSurge: .count(1), maxUnavailable: .count(0),
                                 progressDeadline: .seconds(120), onFailure: .rollback),
            stopGracePeriod: Millis(10_000), restart: .always)
        explicit.labels = [:]
        #expect(explicit.revision == implicit.revision)
        let plan = try Fx.plan(Fx.desired([explicit]), Fx.observed([Fx.instances(of: implicit, 1)]))
        #expect(plan.steps.isEmpty)
    }

    @Test func convergedPlanHasNoSteps() throws {
        let plan = try Fx.plan(
            Fx.desired([booking, customer]),
            Fx.observed([Fx.instances(of: booking, 3), Fx.instances(of: customer, 2, state: .starting)]))
        #expect(plan.steps.isEmpty)
        #expect(plan.notes.isEmpty)
        #expect(!plan.hasChanges)
        #expect(plan.summary == PlanSummary([]))
    }

    @Test func pruneOnlyWithTheFlag() throws {
        let legacy = Fx.spec("legacy")
        let observed = Fx.observed([
            Fx.instances(of: customer, 2), Fx.instances(of: booking, 3), Fx.instances(of: legacy, 2),
        ])
        let without = try Fx.plan(Fx.desired([booking, customer]), observed)
        #expect(without.steps.isEmpty)
        #expect(without.notes == [PlanNote(
            kind: .wouldPrune, service: "legacy", instances: ["legacy-1", "legacy-2"],
            message: "not in the desired state (2 instances); kept by --no-prune (leave it out to delete it)")])
        let with = try Fx.plan(Fx.desired([booking, customer]), observed, prune: true)
        #expect(lines(with) == [
            "0 delete legacy: not in the desired state | from shop/legacy:1.0 x2 | [legacy-1, legacy-2]",
        ])
        #expect(with.notes.isEmpty)
    }

    @Test func deletesComeAfterEverythingElseInReverseDependencyOrder() throws {
        let old1 = Fx.spec("old-db"), old2 = Fx.spec("old-api")
        var observed = Fx.observed([
            Fx.instances(of: customer, 1), Fx.instances(of: booking, 1),
            Fx.instances(of: old1, 1), Fx.instances(of: old2, 1),
            Fx.instances(of: Fx.spec("keep1"), 1), Fx.instances(of: Fx.spec("keep2"), 1),
        ])
        for i in observed.services.indices where observed.services[i].name == "old-api" {
            observed.services[i].dependsOn = ["old-db"]
        }
        let plan = try Fx.plan(
            Fx.desired([booking, customer, Fx.spec("keep1"), Fx.spec("keep2")]), observed, prune: true)
        #expect(lines(plan) == [
            "0 scale customer: replicas 1 → 2 | from shop/customer:1.0 x1 | to shop/customer:1.0 x2",
            "1 scale booking: replicas 1 → 3 | from shop/booking:1.4.2 x1 | to shop/booking:1.4.2 x3",
            "2 delete old-api: not in the desired state | from shop/old-api:1.0 x1 | [old-api-1]",
            "3 delete old-db: not in the desired state | from shop/old-db:1.0 x1 | [old-db-1]",
        ])
    }

    @Test func massDeletionIsRefusedThenAllowed() throws {
        let others = ["a", "b", "c"].map { Fx.spec($0) }
        let observed = Fx.observed([Fx.instances(of: customer, 2)] + others.map { Fx.instances(of: $0, 1) })
        #expect(throws: PlanError.massDelete(deleting: ["a", "b", "c"], running: 4)) {
            try Fx.plan(Fx.desired([customer]), observed, prune: true)
        }
        #expect(PlanError.massDelete(deleting: ["a", "b", "c"], running: 4).description == """
            refusing to delete 3 of 4 running services (a, b, c): that is more than half. \
            If --path or --ref is wrong, the manifests were not found; check them. \
            To apply without deleting them, pass --no-prune; \
            if you really mean to delete them, pass --allow-mass-delete
            """)
        let allowed = try Fx.plan(Fx.desired([customer]), observed, prune: true, allowMassDelete: true)
        #expect(allowed.steps.map(\.service) == ["a", "b", "c"])
        #expect(allowed.summary.delete == 3)
        // Exactly half is not "more than half".
        let half = try Fx.plan(Fx.desired([customer, others[0]]), observed, prune: true)
        #expect(half.steps.map(\.service) == ["b", "c"])
    }

    /// Strays (containers with only the project label) are deleted by a prune, but are no
    /// running service for the mass-delete rule, either way.
    @Test func straysArePrunedAndAreNoServiceForTheMassDeleteRule() throws {
        let strays = [Instance(id: "s1", service: ObservedService.straysName, revision: Revision(""), state: .running)]
        let b = Fx.spec("b")
        // Deleting b is 1 of 2 services: allowed; strays do not make it 2 of 3.
        let observed = Fx.observed([Fx.instances(of: customer, 2), Fx.instances(of: b, 1), strays])
        let plan = try Fx.plan(Fx.desired([customer]), observed, prune: true)
        #expect(plan.steps.map { "\($0.action.rawValue) \($0.service)" } == ["delete (strays)", "delete b"])
        // Strays alone are never a mass deletion.
        let onlyStrays = try Fx.plan(Fx.desired([]), Fx.observed([strays]), prune: true)
        #expect(onlyStrays.steps.map(\.service) == ["(strays)"])
        // Without --prune they are a note, like any service not desired.
        let kept = try Fx.plan(Fx.desired([customer]), Fx.observed([Fx.instances(of: customer, 2), strays]))
        #expect(kept.steps.isEmpty)
        #expect(kept.notes.map(\.message) == ["not in the desired state (1 instance); kept by --no-prune (leave it out to delete it)"])
    }

    @Test func noPruneWhileTheDesiredStateHasErrors() throws {
        let error = Diagnostic(.error, file: "manifests/legacy.yaml", line: 4, column: 13, path: "spec.replicas",
                               message: "expected an integer, found \"three\"")
        let observed = Fx.observed([Fx.instances(of: customer, 2), Fx.instances(of: Fx.spec("legacy"), 1)])
        let plan = try Fx.plan(Fx.desired([customer], diagnostics: [error]), observed, prune: true, allowMassDelete: true)
        #expect(plan.steps.isEmpty)
        #expect(plan.notes.map(\.message) == [
            "held back as it runs (1 instance): the desired state has 1 error, and berth never prunes then; fix them first",
        ])
    }

    /// Issue 17: without --prune, a service the invalid commit no longer loads was told
    /// "pass --prune to delete it" — it is only held back.
    @Test func withoutPruneADesiredStateWithErrorsHoldsBackNeverSuggestsPrune() throws {
        let error = Diagnostic(.error, file: "manifests/legacy.yaml", line: 4, column: 13, path: "spec.replicas",
                               message: "expected an integer, found \"three\"")
        let observed = Fx.observed([Fx.instances(of: customer, 2), Fx.instances(of: Fx.spec("legacy"), 1)])
        let plan = try Fx.plan(Fx.desired([customer], diagnostics: [error]), observed)
        #expect(plan.steps.isEmpty)
        #expect(plan.notes.map { "\($0.kind) \($0.message)" } == [
            "pruneBlocked held back as it runs (1 instance): the desired state has 1 error, and berth never prunes then; fix them first",
        ])
    }

    @Test func secretEnvValuesAreMaskedInCreateSteps() throws {
        let spec = Fx.spec("payments", env: ["DB_PASSWORD": "hunter2", "API_KEY": "k-123", "MODE": "live"])
        let plan = try Fx.plan(Fx.desired([spec]), .none(project: "shop"))
        #expect(plan.steps[0].to?.env == ["DB_PASSWORD": "(sensitive)", "API_KEY": "(sensitive)", "MODE": "live"])
        let json = plan.jsonText()
        #expect(!json.contains("hunter2"))
        #expect(!json.contains("k-123"))
        #expect(json.contains("\"MODE\" : \"live\""))
    }

    @Test func planJSONDecodesBackToTheSamePlan() throws {
        let plan = try Fx.plan(Fx.desired([booking, customer]), Fx.observed([Fx.instances(of: customer, 1, state: .exited)]))
        let decoded = try JSONDecoding.plan(plan.jsonText())
        #expect(decoded == plan)
    }
}
