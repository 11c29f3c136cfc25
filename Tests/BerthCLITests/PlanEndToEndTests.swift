import Foundation
import Testing
import BerthCore
import BerthTestSupport

/// `berth plan` as the built binary over real git repositories: exact stdout, stderr, exit.
@Suite struct PlanEndToEndTests {
    static func repo(_ files: [String: String]) throws -> (GitRepoBuilder, String) {
        let repo = try GitRepoBuilder()
        for (path, text) in files { try repo.write(path, text) }
        let sha = try repo.commit("manifests")
        return (repo, sha)
    }

    static let customer = GitRepoBuilder.service("customer", image: "shop/customer:1.0", replicas: 2)
    static let booking = GitRepoBuilder.service(
        "booking", image: "shop/booking:1.4.2", replicas: 3,
        env: ["CUSTOMER_URL": "http://customer:8080", "DB_PASSWORD": "hunter2"],
        extra: "  dependsOn: [customer]\n")

    static func observedFile(_ repo: GitRepoBuilder, _ state: ObservedState) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let url = repo.root.url.appendingPathComponent("observed.json")
        try encoder.encode(state).write(to: url)
        return url.path
    }

    static func instances(_ spec: ServiceSpec, _ count: Int, revision: Revision? = nil) -> ObservedService {
        ObservedService(name: spec.name, instances: (1...count).map {
            Instance(id: "\(spec.name)-\($0)", service: spec.name, revision: revision ?? spec.revision,
                     image: spec.image, state: .running)
        })
    }

    @Test func createFromNothingWithTheRepositoryFolderAsProject() throws {
        let (repo, sha) = try Self.repo(["manifests/customer.yaml": Self.customer, "manifests/booking.yaml": Self.booking])
        defer { repo.cleanup() }
        let project = URL(fileURLWithPath: repo.path).lastPathComponent
        let r = try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", "none", "--detailed-exitcode"])
        #expect(r == ProcessResult(stdout: """
            Berth plan for project \(project) at commit \(sha.prefix(7)) (prune: on)

            Symbols: + create

            wave 0:
              + create customer  2 replicas of shop/customer:1.0  # new service: nothing runs yet

            wave 1:
              + create booking   3 replicas of shop/booking:1.4.2  # new service: nothing runs yet
                                 env: CUSTOMER_URL=http://customer:8080, DB_PASSWORD=(sensitive)

            Plan: 2 to create, 0 to update, 0 to scale, 0 to heal, 0 to delete.

            """, stderr: "", status: 2))
        for format in ["json", "markdown"] {
            let other = try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", "none", "--format", format])
            #expect(other.status == 0)
            #expect(!other.stdout.contains("hunter2"))
            #expect(other.stdout.contains("DB_PASSWORD"))
        }
    }

    @Test func jsonCarriesTheCommitAndReadsItsOwnStatusShape() throws {
        let (repo, sha) = try Self.repo(["customer.yaml": Self.customer])
        defer { repo.cleanup() }
        let spec = ServiceSpec(name: "customer", image: "shop/customer:1.0", replicas: 2)
        let file = try Self.observedFile(repo, ObservedState(project: "shop", services: [Self.instances(spec, 1)]))
        let r = try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", file, "--format", "json"])
        #expect(r == ProcessResult(stdout: """
            {
              "formatVersion" : 1,
              "notes" : [

              ],
              "project" : "shop",
              "prune" : true,
              "revision" : "\(sha)",
              "steps" : [
                {
                  "action" : "scale",
                  "from" : {
                    "image" : "shop/customer:1.0",
                    "replicas" : 1,
                    "revision" : "\(spec.revision.id)"
                  },
                  "reason" : "replicas 1 → 2",
                  "service" : "customer",
                  "to" : {
                    "image" : "shop/customer:1.0",
                    "replicas" : 2,
                    "revision" : "\(spec.revision.id)"
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

            """, stderr: "", status: 0))
    }

    @Test func spelledOutDefaultsAreConverged() throws {
        let explicit = GitRepoBuilder.service("customer", image: "shop/customer:1.0", replicas: 1, extra: """
              restart: always
              stopGracePeriod: 10s
              update:
                strategy: rolling
                maxSurge: 1
                maxUnavailable: 0
                progressDeadline: 2m
                onFailure: rollback

            """)
        let (repo, sha) = try Self.repo(["manifests/customer.yaml": explicit])
        defer { repo.cleanup() }
        let spec = ServiceSpec(name: "customer", image: "shop/customer:1.0")
        let file = try Self.observedFile(repo, ObservedState(project: "shop", services: [Self.instances(spec, 1)]))
        let r = try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", file, "--detailed-exitcode"])
        #expect(r == ProcessResult(stdout: """
            Berth plan for project shop at commit \(sha.prefix(7)) (prune: on)

            No changes. Desired state matches what runs.

            """, stderr: "", status: 0))
    }

    /// No steps: exit 0 with --detailed-exitcode, in every format.
    @Test func aConvergedStateIsExitZeroInEveryFormat() throws {
        let (repo, sha) = try Self.repo(["manifests/customer.yaml": Self.customer])
        defer { repo.cleanup() }
        let spec = ServiceSpec(name: "customer", image: "shop/customer:1.0", replicas: 2)
        let file = try Self.observedFile(repo, ObservedState(project: "shop", services: [Self.instances(spec, 2)]))
        let run = { (format: String) in
            try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", file, "--detailed-exitcode", "--format", format])
        }
        #expect(try run("text") == ProcessResult(stdout: """
            Berth plan for project shop at commit \(sha.prefix(7)) (prune: on)

            No changes. Desired state matches what runs.

            """, stderr: "", status: 0))
        #expect(try run("markdown") == ProcessResult(stdout: """
            ### Berth plan for `shop` at `\(sha.prefix(7))`

            No changes. Desired state matches what runs.

            """, stderr: "", status: 0))
        #expect(try run("json") == ProcessResult(stdout: """
            {
              "formatVersion" : 1,
              "notes" : [

              ],
              "project" : "shop",
              "prune" : true,
              "revision" : "\(sha)",
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

            """, stderr: "", status: 0))
    }

    @Test func massDeletionIsRefusedThenAllowed() throws {
        let (repo, sha) = try Self.repo(["manifests/customer.yaml": Self.customer])
        defer { repo.cleanup() }
        let spec = ServiceSpec(name: "customer", image: "shop/customer:1.0", replicas: 2)
        let gone = ["a", "b"].map { Self.instances(ServiceSpec(name: $0, image: "shop/\($0):1"), 1) }
        let file = try Self.observedFile(repo, ObservedState(project: "shop", services: [Self.instances(spec, 2)] + gone))
        // Refused in every format alike: nothing on stdout (no half a document for CI), exit 1;
        // with --format json the error is a JSON object on stderr.
        let refusal = """
            refusing to delete 2 of 3 running services (a, b): that is more than half. \
            If --path or --ref is wrong, the manifests were not found; check them. \
            To apply without deleting them, pass --no-prune; \
            if you really mean to delete them, pass --allow-mass-delete
            """
        for format in ["text", "json", "markdown"] {
            let refused = try ProcessRunner.berth([
                "plan", "--repo", repo.path, "--observed", file, "--prune", "--detailed-exitcode", "--format", format,
            ])
            let stderr = format == "json" ? #"{"error":"\#(refusal)","formatVersion":1}"# + "\n" : "error: \(refusal)\n"
            #expect(refused == ProcessResult(stdout: "", stderr: stderr, status: 1), "\(format)")
        }
        let allow = ["plan", "--repo", repo.path, "--observed", file, "--prune", "--allow-mass-delete", "--detailed-exitcode"]
        #expect(try ProcessRunner.berth(allow) == ProcessResult(stdout: """
            Berth plan for project shop at commit \(sha.prefix(7)) (prune: on)

            Symbols: - delete

            wave 0:
              - delete a  remove a-1  # not in the desired state
              - delete b  remove b-1  # not in the desired state

            Plan: 0 to create, 0 to update, 0 to scale, 0 to heal, 2 to delete.

            """, stderr: "", status: 2))
        let (ra, rb) = (ServiceSpec(name: "a", image: "shop/a:1").revision.id, ServiceSpec(name: "b", image: "shop/b:1").revision.id)
        #expect(try ProcessRunner.berth(allow + ["--format", "json"]) == ProcessResult(stdout: """
            {
              "formatVersion" : 1,
              "notes" : [

              ],
              "project" : "shop",
              "prune" : true,
              "revision" : "\(sha)",
              "steps" : [
                {
                  "action" : "delete",
                  "from" : {
                    "image" : "shop/a:1",
                    "replicas" : 1,
                    "revision" : "\(ra)"
                  },
                  "instances" : [
                    "a-1"
                  ],
                  "reason" : "not in the desired state",
                  "service" : "a",
                  "wave" : 0
                },
                {
                  "action" : "delete",
                  "from" : {
                    "image" : "shop/b:1",
                    "replicas" : 1,
                    "revision" : "\(rb)"
                  },
                  "instances" : [
                    "b-1"
                  ],
                  "reason" : "not in the desired state",
                  "service" : "b",
                  "wave" : 0
                }
              ],
              "summary" : {
                "create" : 0,
                "delete" : 2,
                "heal" : 0,
                "scale" : 0,
                "update" : 0
              }
            }

            """, stderr: "", status: 2))
        let allowed = try ProcessRunner.berth(allow + ["--format", "markdown"])
        #expect(allowed == ProcessResult(stdout: """
            ### Berth plan for `shop` at `\(sha.prefix(7))`

            | | Action | Service | Change | Why | Wave |
            |:-:|---|---|---|---|--:|
            | `-` | delete | `a` | remove a-1 | not in the desired state | 0 |
            | `-` | delete | `b` | remove b-1 | not in the desired state | 0 |

            **Plan: 0 to create, 0 to update, 0 to scale, 0 to heal, 2 to delete.**

            """, stderr: "", status: 2))
    }

    @Test func noPruneWhileTheDesiredStateHasErrors() throws {
        let broken = GitRepoBuilder.service("legacy", image: "shop/legacy:1", extra: "  replicas: three\n")
        let (repo, sha) = try Self.repo(["manifests/customer.yaml": Self.customer, "manifests/legacy.yaml": broken])
        defer { repo.cleanup() }
        let spec = ServiceSpec(name: "customer", image: "shop/customer:1.0", replicas: 2)
        let legacy = Self.instances(ServiceSpec(name: "legacy", image: "shop/legacy:1"), 1)
        let file = try Self.observedFile(repo, ObservedState(project: "shop", services: [Self.instances(spec, 2), legacy]))
        let r = try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", file, "--prune", "--allow-mass-delete"])
        #expect(r.stdout == """
            Berth plan for project shop at commit \(sha.prefix(7)) (prune: on)

            No changes for the services that loaded. The desired state has 1 error: the services that did not load are left as they run.

            Not changed:
              legacy: held back as it runs (1 instance): the desired state has 1 error, and berth never prunes then; fix them first

            """)
        #expect(r.stderr.hasSuffix("""
            error: the desired state has 1 error (above); the plan covers only the services that loaded, and prunes nothing

            """))
        #expect(r.stderr.hasPrefix("manifests/legacy.yaml:7:13: error: spec.replicas: "))
        #expect(r.status == 1)
    }

    @Test func aDependencyCycleIsAnError() throws {
        let (repo, sha) = try Self.repo([
            "manifests/a.yaml": GitRepoBuilder.service("a", image: "x:1", extra: "  dependsOn: [b]\n"),
            "manifests/b.yaml": GitRepoBuilder.service("b", image: "x:1", extra: "  dependsOn: [a]\n"),
        ])
        defer { repo.cleanup() }
        let r = try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", "none", "--project", "shop", "--detailed-exitcode"])
        #expect(r == ProcessResult(stdout: """
            Berth plan for project shop at commit \(sha.prefix(7)) (prune: on)

            No changes for the services that loaded. The desired state has 1 error: the services that did not load are left as they run.

            """, stderr: """
            manifests/a.yaml:7:15: error: spec.dependsOn[0]: dependency cycle: a → b → a; remove one of these dependsOn entries
            error: the desired state has 1 error (above); the plan covers only the services that loaded, and prunes nothing

            """, status: 1))
        let stderr = r.stderr
        let markdown = try ProcessRunner.berth([
            "plan", "--repo", repo.path, "--observed", "none", "--project", "shop", "--detailed-exitcode", "--format", "markdown",
        ])
        #expect(markdown == ProcessResult(stdout: """
            ### Berth plan for `shop` at `\(sha.prefix(7))`

            No changes for the services that loaded. The desired state has 1 error: the services that did not load are left as they run.

            """, stderr: stderr, status: 1))
        let json = try ProcessRunner.berth([
            "plan", "--repo", repo.path, "--observed", "none", "--project", "shop", "--detailed-exitcode", "--format", "json",
        ])
        #expect(json == ProcessResult(stdout: """
            {
              "desiredErrors" : 1,
              "formatVersion" : 1,
              "notes" : [

              ],
              "project" : "shop",
              "prune" : true,
              "revision" : "\(sha)",
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

            """, stderr: """
            {"column":15,"file":"manifests/a.yaml","line":7,"message":"dependency cycle: a → b → a; remove one of these dependsOn entries","path":"spec.dependsOn[0]","severity":"error"}
            {"error":"the desired state has 1 error (above); the plan covers only the services that loaded, and prunes nothing","formatVersion":1}

            """, status: 1))
    }

    /// Env values whose key contains TOKEN, SECRET, PASSWORD, PASSWD or KEY, in any case, are
    /// masked in every format. The rule is "contains": MONKEY holds KEY, so it is masked too;
    /// MODE is not a secret and shows.
    @Test func secretEnvValuesAreMaskedInEveryFormat() throws {
        let env = [
            "GH_TOKEN": "t0k3n-value", "CLIENT_SECRET": "s3cr3t-value", "DB_PASSWORD": "hunter2-value",
            "LDAP_PASSWD": "pa55wd-value", "API_KEY": "k3y-value", "db_password": "lower-value",
            "Api_Token": "mixed-value", "MONKEY": "banana-value", "MODE": "live",
        ]
        let (repo, sha) = try Self.repo([
            "manifests/vault.yaml": GitRepoBuilder.service("vault", image: "shop/vault:1.0", env: env),
        ])
        defer { repo.cleanup() }
        let run = { (format: String) in
            try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", "none", "--project", "shop", "--format", format])
        }
        let masked = """
            API_KEY=(sensitive), Api_Token=(sensitive), CLIENT_SECRET=(sensitive), DB_PASSWORD=(sensitive), \
            GH_TOKEN=(sensitive), LDAP_PASSWD=(sensitive), MODE=live, MONKEY=(sensitive), db_password=(sensitive)
            """
        let text = try run("text")
        #expect(text == ProcessResult(stdout: """
            Berth plan for project shop at commit \(sha.prefix(7)) (prune: on)

            Symbols: + create

            wave 0:
              + create vault  1 replica of shop/vault:1.0  # new service: nothing runs yet
                              env: \(masked)

            Plan: 1 to create, 0 to update, 0 to scale, 0 to heal, 0 to delete.

            """, stderr: "", status: 0))
        let markdown = try run("markdown")
        #expect(markdown == ProcessResult(stdout: """
            ### Berth plan for `shop` at `\(sha.prefix(7))`

            | | Action | Service | Change | Why | Wave |
            |:-:|---|---|---|---|--:|
            | `+` | create | `vault` | 1 replica of shop/vault:1.0<br>env: \(masked) | new service: nothing runs yet | 0 |

            **Plan: 1 to create, 0 to update, 0 to scale, 0 to heal, 0 to delete.**

            """, stderr: "", status: 0))
        let revision = ServiceSpec(name: "vault", image: "shop/vault:1.0", env: env).revision.id
        let json = try run("json")
        #expect(json == ProcessResult(stdout: """
            {
              "formatVersion" : 1,
              "notes" : [

              ],
              "project" : "shop",
              "prune" : true,
              "revision" : "\(sha)",
              "steps" : [
                {
                  "action" : "create",
                  "reason" : "new service: nothing runs yet",
                  "service" : "vault",
                  "to" : {
                    "env" : {
                      "API_KEY" : "(sensitive)",
                      "Api_Token" : "(sensitive)",
                      "CLIENT_SECRET" : "(sensitive)",
                      "DB_PASSWORD" : "(sensitive)",
                      "GH_TOKEN" : "(sensitive)",
                      "LDAP_PASSWD" : "(sensitive)",
                      "MODE" : "live",
                      "MONKEY" : "(sensitive)",
                      "db_password" : "(sensitive)"
                    },
                    "image" : "shop/vault:1.0",
                    "replicas" : 1,
                    "revision" : "\(revision)"
                  },
                  "wave" : 0
                }
              ],
              "summary" : {
                "create" : 1,
                "delete" : 0,
                "heal" : 0,
                "scale" : 0,
                "update" : 0
              }
            }

            """, stderr: "", status: 0))
        for output in [text.stdout, markdown.stdout, json.stdout] {
            for (key, value) in env where key != "MODE" { #expect(!output.contains(value), "\(key) leaked") }
        }
    }
}
