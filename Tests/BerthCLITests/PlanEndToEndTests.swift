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
            Berth plan for project \(project) at commit \(sha.prefix(7))

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
            Berth plan for project shop at commit \(sha.prefix(7))

            No changes. Desired state matches what runs.

            """, stderr: "", status: 0))
    }

    @Test func massDeletionIsRefusedThenAllowed() throws {
        let (repo, sha) = try Self.repo(["manifests/customer.yaml": Self.customer])
        defer { repo.cleanup() }
        let spec = ServiceSpec(name: "customer", image: "shop/customer:1.0", replicas: 2)
        let gone = ["a", "b"].map { Self.instances(ServiceSpec(name: $0, image: "shop/\($0):1"), 1) }
        let file = try Self.observedFile(repo, ObservedState(project: "shop", services: [Self.instances(spec, 2)] + gone))
        let refused = try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", file, "--prune"])
        #expect(refused == ProcessResult(stdout: "", stderr: """
            error: refusing to delete 2 of 3 running services (a, b): that is more than half. \
            If --path or --ref is wrong, the manifests were not found; check them. \
            If you really mean to delete them, pass --allow-mass-delete

            """, status: 1))
        let allowed = try ProcessRunner.berth([
            "plan", "--repo", repo.path, "--observed", file, "--prune", "--allow-mass-delete", "--detailed-exitcode",
            "--format", "markdown",
        ])
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
            Berth plan for project shop at commit \(sha.prefix(7))

            No changes for the services that loaded. The desired state has 1 error: the services that did not load are left as they run.

            Not changed:
              legacy: not in the desired state, but kept (1 instance): the desired state has 1 error, and berth never prunes then; fix them first

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
            Berth plan for project shop at commit \(sha.prefix(7))

            No changes for the services that loaded. The desired state has 1 error: the services that did not load are left as they run.

            """, stderr: """
            manifests/a.yaml:7:15: error: spec.dependsOn[0]: dependency cycle: a → b → a; remove one of these dependsOn entries
            error: the desired state has 1 error (above); the plan covers only the services that loaded, and prunes nothing

            """, status: 1))
    }
}
