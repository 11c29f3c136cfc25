import Testing
import BerthCore
@testable import berth

/// Exact text, markdown and JSON of the plans `berth plan` prints.
@Suite struct PlanRenderingTests {
    static let commit = "0123456789abcdef0123456789abcdef01234567"

    static func spec(_ name: String, image: String? = nil, replicas: Int = 1, dependsOn: [String] = [],
                     env: [String: String] = [:]) -> ServiceSpec {
        ServiceSpec(name: name, image: image ?? "shop/\(name):1.0", replicas: replicas, env: env, dependsOn: dependsOn)
    }

    static func desired(_ specs: [ServiceSpec], diagnostics: [Diagnostic] = []) -> DesiredState {
        DesiredState(services: Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) }),
                     diagnostics: diagnostics, commit: commit)
    }

    static func running(_ name: String, _ count: Int, revision: String, image: String? = nil) -> ObservedService {
        ObservedService(name: name, instances: (1...count).map {
            Instance(id: "\(name)-\($0)", service: name, revision: Revision(revision),
                     image: image ?? "shop/\(name):1.0", state: .running)
        })
    }

    func plan(_ specs: [ServiceSpec], _ services: [ObservedService], prune: Bool = false,
              errors: [Diagnostic] = []) throws -> Plan {
        try Planner.plan(desired: Self.desired(specs, diagnostics: errors),
                         observed: ObservedState(project: "shop", services: services),
                         options: PlanOptions(prune: prune))
    }

    @Test func createFromNothingMasksSecretsInEveryFormat() throws {
        let customer = Self.spec("customer", replicas: 2)
        let booking = Self.spec("booking", image: "shop/booking:1.4.2", replicas: 3, dependsOn: ["customer"],
                                env: ["DB_PASSWORD": "hunter2", "CUSTOMER_URL": "http://customer:8080"])
        let p = try plan([booking, customer], [])
        #expect(PlanRendering.text(p) == """
            Berth plan for project shop at commit 0123456 (prune: off)

            Symbols: + create

            wave 0:
              + create customer  2 replicas of shop/customer:1.0  # new service: nothing runs yet

            wave 1:
              + create booking   3 replicas of shop/booking:1.4.2  # new service: nothing runs yet
                                 env: CUSTOMER_URL=http://customer:8080, DB_PASSWORD=(sensitive)

            Plan: 2 to create, 0 to update, 0 to scale, 0 to heal, 0 to delete.

            """)
        #expect(PlanRendering.markdown(p) == """
            ### Berth plan for `shop` at `0123456`

            | | Action | Service | Change | Why | Wave |
            |:-:|---|---|---|---|--:|
            | `+` | create | `customer` | 2 replicas of shop/customer:1.0 | new service: nothing runs yet | 0 |
            | `+` | create | `booking` | 3 replicas of shop/booking:1.4.2<br>env: CUSTOMER_URL=http://customer:8080, DB_PASSWORD=(sensitive) | new service: nothing runs yet | 1 |

            **Plan: 2 to create, 0 to update, 0 to scale, 0 to heal, 0 to delete.**

            """)
        let json = p.jsonText()
        #expect(json.contains(#""DB_PASSWORD" : "(sensitive)""#))
        for text in [PlanRendering.text(p), PlanRendering.markdown(p), json] {
            #expect(!text.contains("hunter2"))
        }
    }

    @Test func scaleToZero() throws {
        var customer = Self.spec("customer")
        customer.replicas = 0
        let p = try plan([customer], [Self.running("customer", 2, revision: customer.revision.id)])
        #expect(PlanRendering.text(p) == """
            Berth plan for project shop at commit 0123456 (prune: off)

            Symbols: > scale

            wave 0:
              > scale customer  2 → 0 replicas of shop/customer:1.0 (stop customer-1, customer-2)  # replicas 2 → 0

            Plan: 0 to create, 0 to update, 1 to scale, 0 to heal, 0 to delete.

            """)
        #expect(PlanRendering.markdown(p) == """
            ### Berth plan for `shop` at `0123456`

            | | Action | Service | Change | Why | Wave |
            |:-:|---|---|---|---|--:|
            | `>` | scale | `customer` | 2 → 0 replicas of shop/customer:1.0 (stop customer-1, customer-2) | replicas 2 → 0 | 0 |

            **Plan: 0 to create, 0 to update, 1 to scale, 0 to heal, 0 to delete.**

            """)
        let r = customer.revision.id
        #expect(p.jsonText() == """
            {
              "formatVersion" : 1,
              "notes" : [

              ],
              "project" : "shop",
              "prune" : false,
              "revision" : "\(Self.commit)",
              "steps" : [
                {
                  "action" : "scale",
                  "from" : {
                    "image" : "shop/customer:1.0",
                    "replicas" : 2,
                    "revision" : "\(r)"
                  },
                  "instances" : [
                    "customer-1",
                    "customer-2"
                  ],
                  "reason" : "replicas 2 → 0",
                  "service" : "customer",
                  "to" : {
                    "image" : "shop/customer:1.0",
                    "replicas" : 0,
                    "revision" : "\(r)"
                  },
                  "wave" : 0
                }
              ],
              "summary" : {
                "create" : 0,
                "delete" : 0,
                "heal" : 0,
                "scale" : 1,
                "update" : 0
              }
            }

            """)
    }

    @Test func scaleAndUpdateTogetherAndTheirDependents() throws {
        let db = Self.spec("db", image: "postgres:16")
        let booking = Self.spec("booking", image: "shop/booking:1.4.2", replicas: 3, dependsOn: ["db"])
        let p = try plan([db, booking], [
            Self.running("db", 1, revision: "d0d0d0d0d0", image: "postgres:15"),
            Self.running("booking", 2, revision: "b0b0b0b0b0", image: "shop/booking:1.4.1"),
        ])
        let (d, b) = (db.revision.id, booking.revision.id)
        #expect(PlanRendering.text(p) == """
            Berth plan for project shop at commit 0123456 (prune: off)

            Symbols: ~ update

            wave 0:
              ~ update db       revision d0d0d0d0d0 → \(d), rolling, maxSurge 1, maxUnavailable 0  # image postgres:15 → postgres:16

            wave 1:
              ~ update booking  revision b0b0b0b0b0 → \(b), 2 → 3 replicas, rolling, maxSurge 1, maxUnavailable 0  # image shop/booking:1.4.1 → shop/booking:1.4.2; replicas 2 → 3

            Plan: 0 to create, 2 to update, 0 to scale, 0 to heal, 0 to delete.

            """)
        #expect(PlanRendering.markdown(p) == """
            ### Berth plan for `shop` at `0123456`

            | | Action | Service | Change | Why | Wave |
            |:-:|---|---|---|---|--:|
            | `~` | update | `db` | revision d0d0d0d0d0 → \(d), rolling, maxSurge 1, maxUnavailable 0 | image postgres:15 → postgres:16 | 0 |
            | `~` | update | `booking` | revision b0b0b0b0b0 → \(b), 2 → 3 replicas, rolling, maxSurge 1, maxUnavailable 0 | image shop/booking:1.4.1 → shop/booking:1.4.2; replicas 2 → 3 | 1 |

            **Plan: 0 to create, 2 to update, 0 to scale, 0 to heal, 0 to delete.**

            """)
        #expect(p.jsonText() == """
            {
              "formatVersion" : 1,
              "notes" : [

              ],
              "project" : "shop",
              "prune" : false,
              "revision" : "\(Self.commit)",
              "steps" : [
                {
                  "action" : "update",
                  "from" : {
                    "image" : "postgres:15",
                    "replicas" : 1,
                    "revision" : "d0d0d0d0d0"
                  },
                  "instances" : [
                    "db-1"
                  ],
                  "reason" : "image postgres:15 → postgres:16",
                  "service" : "db",
                  "strategy" : {
                    "maxSurge" : 1,
                    "maxUnavailable" : 0,
                    "type" : "rolling"
                  },
                  "to" : {
                    "image" : "postgres:16",
                    "replicas" : 1,
                    "revision" : "\(d)"
                  },
                  "wave" : 0
                },
                {
                  "action" : "update",
                  "from" : {
                    "image" : "shop/booking:1.4.1",
                    "replicas" : 2,
                    "revision" : "b0b0b0b0b0"
                  },
                  "instances" : [
                    "booking-1",
                    "booking-2"
                  ],
                  "reason" : "image shop/booking:1.4.1 → shop/booking:1.4.2; replicas 2 → 3",
                  "service" : "booking",
                  "strategy" : {
                    "maxSurge" : 1,
                    "maxUnavailable" : 0,
                    "type" : "rolling"
                  },
                  "to" : {
                    "image" : "shop/booking:1.4.2",
                    "replicas" : 3,
                    "revision" : "\(b)"
                  },
                  "wave" : 1
                }
              ],
              "summary" : {
                "create" : 0,
                "delete" : 0,
                "heal" : 0,
                "scale" : 0,
                "update" : 2
              }
            }

            """)
    }

    @Test func healingACrashLoopingInstance() throws {
        let customer = Self.spec("customer", replicas: 2)
        var observed = Self.running("customer", 2, revision: customer.revision.id)
        observed.instances[1].state = .exited
        observed.instances[1].exitCode = 137
        observed.instances[1].restartCount = 4
        let p = try plan([customer], [observed])
        #expect(PlanRendering.text(p) == """
            Berth plan for project shop at commit 0123456 (prune: off)

            Symbols: ! heal

            wave 0:
              ! heal customer  replace customer-2  # customer-2 exited with code 137, restarted 4 times

            Plan: 0 to create, 0 to update, 0 to scale, 1 to heal, 0 to delete.

            """)
        #expect(PlanRendering.markdown(p) == """
            ### Berth plan for `shop` at `0123456`

            | | Action | Service | Change | Why | Wave |
            |:-:|---|---|---|---|--:|
            | `!` | heal | `customer` | replace customer-2 | customer-2 exited with code 137, restarted 4 times | 0 |

            **Plan: 0 to create, 0 to update, 0 to scale, 1 to heal, 0 to delete.**

            """)
        let r = customer.revision.id
        #expect(p.jsonText() == """
            {
              "formatVersion" : 1,
              "notes" : [

              ],
              "project" : "shop",
              "prune" : false,
              "revision" : "\(Self.commit)",
              "steps" : [
                {
                  "action" : "heal",
                  "from" : {
                    "image" : "shop/customer:1.0",
                    "replicas" : 2,
                    "revision" : "\(r)"
                  },
                  "instances" : [
                    "customer-2"
                  ],
                  "reason" : "customer-2 exited with code 137, restarted 4 times",
                  "service" : "customer",
                  "to" : {
                    "image" : "shop/customer:1.0",
                    "replicas" : 2,
                    "revision" : "\(r)"
                  },
                  "wave" : 0
                }
              ],
              "summary" : {
                "create" : 0,
                "delete" : 0,
                "heal" : 1,
                "scale" : 0,
                "update" : 0
              }
            }

            """)
    }

    @Test func converged() throws {
        let customer = Self.spec("customer", replicas: 2)
        let p = try plan([customer], [Self.running("customer", 2, revision: customer.revision.id)])
        #expect(PlanRendering.text(p) == """
            Berth plan for project shop at commit 0123456 (prune: off)

            No changes. Desired state matches what runs.

            """)
        #expect(PlanRendering.markdown(p) == """
            ### Berth plan for `shop` at `0123456`

            No changes. Desired state matches what runs.

            """)
        #expect(p.jsonText() == """
            {
              "formatVersion" : 1,
              "notes" : [

              ],
              "project" : "shop",
              "prune" : false,
              "revision" : "\(Self.commit)",
              "steps" : [

              ],
              "summary" : {
                "create" : 0,
                "delete" : 0,
                "heal" : 0,
                "scale" : 0,
                "update" : 0
              }
            }

            """)
    }

    @Test func convergedAndWouldPrune() throws {
        let customer = Self.spec("customer")
        let services = [
            Self.running("customer", 1, revision: customer.revision.id),
            Self.running("legacy", 2, revision: "1e1e1e1e1e"),
        ]
        let p = try plan([customer], services)
        #expect(PlanRendering.text(p) == """
            Berth plan for project shop at commit 0123456 (prune: off)

            No changes. Desired state matches what runs.

            Not changed:
              legacy: not in the desired state (2 instances); kept by --no-prune (leave it out to delete it)

            """)
        #expect(PlanRendering.markdown(p) == """
            ### Berth plan for `shop` at `0123456`

            No changes. Desired state matches what runs.

            **Not changed:**

            - `legacy`: not in the desired state (2 instances); kept by --no-prune (leave it out to delete it)

            """)
        #expect(p.jsonText() == """
            {
              "formatVersion" : 1,
              "notes" : [
                {
                  "instances" : [
                    "legacy-1",
                    "legacy-2"
                  ],
                  "kind" : "wouldPrune",
                  "message" : "not in the desired state (2 instances); kept by --no-prune (leave it out to delete it)",
                  "service" : "legacy"
                }
              ],
              "project" : "shop",
              "prune" : false,
              "revision" : "\(Self.commit)",
              "steps" : [

              ],
              "summary" : {
                "create" : 0,
                "delete" : 0,
                "heal" : 0,
                "scale" : 0,
                "update" : 0
              }
            }

            """)
        let pruned = try plan([customer, Self.spec("other")], services + [Self.running("other", 1, revision: "0e0e0e0e0e")], prune: true)
        #expect(PlanRendering.text(pruned) == """
            Berth plan for project shop at commit 0123456 (prune: on)

            Symbols: ~ update, - delete

            wave 0:
              ~ update other   revision 0e0e0e0e0e → \(Self.spec("other").revision.id), rolling, maxSurge 1, maxUnavailable 0  # spec changed (revision 0e0e0e0e0e → \(Self.spec("other").revision.id))

            wave 1:
              - delete legacy  remove legacy-1, legacy-2  # not in the desired state

            Plan: 0 to create, 1 to update, 0 to scale, 0 to heal, 1 to delete.

            """)
    }

    @Test func noPruneWhileTheDesiredStateHasErrors() throws {
        let customer = Self.spec("customer")
        let error = Diagnostic(.error, file: "manifests/legacy.yaml", line: 7, column: 13, path: "spec.replicas",
                               message: "expected an integer, found \"three\"")
        let p = try plan([customer], [Self.running("customer", 1, revision: customer.revision.id),
                                      Self.running("legacy", 1, revision: "1e1e1e1e1e")],
                         prune: true, errors: [error])
        #expect(PlanRendering.text(p) == """
            Berth plan for project shop at commit 0123456 (prune: on)

            No changes for the services that loaded. The desired state has 1 error: the services that did not load are left as they run.

            Not changed:
              legacy: held back as it runs (1 instance): the desired state has 1 error, and berth never prunes then; fix them first

            """)
    }

    @Test func errorsInTheDesiredStateAreSaidAfterTheSummary() throws {
        let customer = Self.spec("customer")
        let error = Diagnostic(.error, file: "manifests/legacy.yaml", line: 7, column: 13, path: "spec.replicas",
                               message: "expected an integer, found \"three\"")
        let p = try plan([customer], [], errors: [error, error])
        #expect(p.desiredErrors == 2)
        #expect(PlanRendering.text(p).hasSuffix("""
            Plan: 1 to create, 0 to update, 0 to scale, 0 to heal, 0 to delete.
            The desired state has 2 errors: the services that did not load are left as they run, and nothing is pruned.

            """))
        #expect(PlanRendering.markdown(p).hasSuffix("""
            **Plan: 1 to create, 0 to update, 0 to scale, 0 to heal, 0 to delete.**

            The desired state has 2 errors: the services that did not load are left as they run, and nothing is pruned.

            """))
        #expect(p.jsonText().contains(#""desiredErrors" : 2,"#))
    }

    @Test func markdownCellsAreEscaped() {
        #expect(PlanRendering.cell("a|b <c> & d\ne\u{1B}[1m") == "a\\|b &lt;c&gt; &amp; d\\ne\\x1b[1m")
    }
}
