import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

extension SwarmSuite {
    /// `berth apply --runtime swarm` end to end on the 3-node Swarm: the sample shop in
    /// `dependsOn` order across nodes, services reaching each other by name across nodes, a
    /// task killed on its node replaced and reported, a broken image that Swarm rolls back
    /// (exit 1, the reason, the previous image running), and a prune.
    @Suite struct ApplyOnSwarmTests {
        @Test func theShopInDependsOnOrderAcrossNodesABrokenImageRolledBackAndAPrune() async throws {
            let shop = try await SwarmShop("ap")
            defer { shop.cleanup() }
            let health = SwarmShop.fastHealth()
            try shop.service("customer", image: "shop/customer:1.0", replicas: 1, spec: "  ports: [{containerPort: 8080}]\n" + health)
            try shop.service(
                "booking", image: "shop/booking:1.0", replicas: 2,
                spec: "  ports: [{containerPort: 8080}]\n  dependsOn: [customer]\n" + health)
            try shop.service(
                "gateway", image: "shop/gateway:1.0", replicas: 2,
                spec: "  ports: [{containerPort: 8080}]\n  dependsOn: [booking, customer]\n" + health)
            try shop.commit("shop")

            // 1. From nothing, wave by wave: each service is created only once the ones it
            // depends on converged (all tasks running and healthy).
            let r = try shop.apply()
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("Plan: 3 to create, 0 to update, 0 to scale, 0 to heal, 0 to delete."))
            let customerDone = try #require(lineIndex(r.stderr, first: "customer: create succeeded in "), "\(r.stderr)")
            let bookingStart = try #require(lineIndex(r.stderr, first: "booking: create: "), "\(r.stderr)")
            let bookingDone = try #require(lineIndex(r.stderr, first: "booking: create succeeded in "), "\(r.stderr)")
            let gatewayStart = try #require(lineIndex(r.stderr, first: "gateway: create: "), "\(r.stderr)")
            #expect(customerDone < bookingStart && bookingDone < gatewayStart, "\(r.stderr)")
            #expect(lineIndex(r.stderr, first: "Apply complete in ") != nil)
            // Swarm's own record agrees: the services were created in that order.
            let services = try await shop.runtime.client.listServices(labels: [BerthLabel.project: shop.project])
            let created = Dictionary(uniqueKeysWithValues: services.map { ($0.Spec.Labels?[BerthLabel.service] ?? "", $0.CreatedAt ?? "") })
            #expect(created["customer"]! < created["booking"]! && created["booking"]! < created["gateway"]!, "\(created)")
            #expect(try shop.summary() == ["booking Synced Healthy 2/2", "customer Synced Healthy 1/1", "gateway Synced Healthy 2/2"])
            let booking = try await shop.instances("booking")
            let customerNode = try #require(try await shop.instances("customer").first?.node)
            #expect(Set(booking.compactMap(\.node)).count == 2, "booking on \(booking.compactMap(\.node))")

            // 2. By name across nodes: a booking task on a node where no customer task runs
            // asks `customer` (its /cgi-bin/customer calls http://customer:8080/version).
            let away = try #require(booking.first { $0.node != customerNode }, "booking on \(booking.compactMap(\.node))")
            let (host, port) = try await Self.hostPort(shop, task: away.id)
            let answer = try ProcessRunner.run(
                URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-m", "5", "http://\(host):\(port)/cgi-bin/customer"])
            #expect(answer.stdout == "customer 1.0\n", "booking on \(away.node ?? "?") → customer on \(customerNode): \(answer.stdout)\(answer.stderr)")

            // 3. A task killed on its node (`docker kill`): Swarm replaces it, and Berth's
            // status reports the restart in that slot.
            let victim = try #require(try await shop.instances("gateway").first)
            let victimNode = try #require(shop.cluster.node(hostname: victim.node ?? ""))
            let container = try #require(
                try await shop.runtime.client.inspectTask(victim.id).Status.ContainerStatus?.ContainerID)
            #expect(try shop.cluster.docker(["kill", container], node: victimNode.number).status == 0)
            var document: SwarmSuite.StatusCommandTests.Document?
            let replaced = try eventually(30) {
                document = try shop.status()
                let gateway = document?.services.first { $0.name == "gateway" }
                return gateway?.health == "Healthy" && gateway?.readyReplicas == 2
                    && gateway?.instances.contains { $0.id == victim.id } == false
                    && gateway?.instances.map { $0.restartCount ?? 0 }.reduce(0, +) == 1
            }
            #expect(replaced, "\(String(describing: document))")
            let killed = try await shop.runtime.client.inspectTask(victim.id)
            #expect(SwarmObservation.reason(killed) == "task: non-zero exit (137)")

            // 4. A broken image: its health check never passes, Swarm rolls the update back.
            // Exit 1, the reason, and booking back on 1.0.
            try shop.service(
                "booking", image: "shop/booking:broken", replicas: 2,
                spec: "  ports: [{containerPort: 8080}]\n  dependsOn: [customer]\n" + health)
            try shop.commit("broken booking")
            let broken = try shop.apply()
            #expect(broken.status == 1, "\(broken.stdout)\(broken.stderr)")
            let failure = broken.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("  booking: rollout of revision ") }
            #expect(failure.count == 1, "\(broken.stderr)")
            let line = failure.first ?? ""
            #expect(line.contains("(shop/booking:broken) failed (Swarm rolled back the update of booking"), "\(line)")
            #expect(line.contains("; last failed task: "), "\(line)")
            #expect(line.hasSuffix("(shop/booking:1.0)"), "\(line)")
            #expect(broken.stderr.contains("error: 1 of 1 step did not succeed:\n"), "\(broken.stderr)")
            let after = try await shop.instances("booking")
            #expect(after.map { "\($0.image ?? "") \($0.state)" } == ["shop/booking:1.0 running", "shop/booking:1.0 running"])
            print("broken booking on Swarm: \(line)")

            // 5. Prune: gateway leaves git and Swarm.
            try shop.service(
                "booking", image: "shop/booking:1.0", replicas: 2,
                spec: "  ports: [{containerPort: 8080}]\n  dependsOn: [customer]\n" + health)
            try shop.repo.remove("manifests/gateway.yaml")
            try shop.commit("no gateway")
            let pruned = try shop.apply(["--prune"])
            #expect(pruned.status == 0, "\(pruned.stdout)\(pruned.stderr)")
            #expect(pruned.stdout.contains("Plan: 0 to create, 0 to update, 0 to scale, 0 to heal, 1 to delete."), "\(pruned.stdout)")
            let left = try await shop.runtime.client.listServices(labels: [BerthLabel.project: shop.project])
            #expect(left.compactMap { $0.Spec.Labels?[BerthLabel.service] }.sorted() == ["booking", "customer"])
            #expect(try shop.summary() == ["booking Synced Healthy 2/2", "customer Synced Healthy 1/1"])

            // 6. A field the Swarm mapping does not carry yet: refused, not run without it.
            try shop.service("cache", image: "shop/customer:1.0", replicas: 1, spec: "  user: nobody\n")
            try shop.commit("cache as nobody")
            let refused = try shop.apply()
            #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
            #expect(
                refused.stderr.contains(
                    "cache uses user, which this version of Berth does not carry onto Swarm services yet; remove it from its manifest, or run it with --runtime docker; nothing was changed"),
                "\(refused.stderr)")
            let afterRefusal = try await shop.runtime.client.listServices(labels: [BerthLabel.project: shop.project])
            #expect(afterRefusal.compactMap { $0.Spec.Labels?[BerthLabel.service] }.sorted() == ["booking", "customer"])
        }

        /// The node address and host-mode port where a task's 8080 answers.
        static func hostPort(_ shop: SwarmShop, task id: String) async throws -> (String, Int) {
            let task = try await shop.runtime.client.inspectTask(id)
            let node = try #require(shop.cluster.nodes.first { n in
                (try? shop.cluster.docker(["node", "inspect", "--format", "{{.ID}}", n.hostname]).stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines)) == task.NodeID
            })
            let port = try #require(task.Status.PortStatus?.Ports?.first { $0.TargetPort == 8080 }?.PublishedPort)
            return (node.address, port)
        }
    }
}
