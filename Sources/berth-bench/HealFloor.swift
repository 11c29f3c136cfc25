import BerthDocker
import Foundation

/// The Docker floor of "all 3 killed", measured beside Berth in the same run: no Berth at
/// all. Three containers of the image run on a user network (as Berth's replicas do, with
/// Berth's container settings); each round kills all three through the Engine API and, at
/// the same moment, creates and starts three replacements through it — before the engine
/// has even reported the kill, which no reconciler can do, so this is a lower bound.
/// Measured like Berth's phase, from the engine's own event times: each victim's `kill` →
/// a replacement's `start`, paired in time order.
///
/// What it shows: on this machine the engine itself needs this long to replace three
/// killed containers at once (the creates wait while the engine tears the dead ones'
/// endpoints down; three starts share the cores), so Berth's figure is read against it.
enum HealFloor {
    static func measureAllKilled(image: String, rounds: Int) throws -> HealBench.Figures {
        let tag = "berthfloor" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let labels = ["berth-bench.floor": tag]
        let client = try blocking { try await DockerClient.connect() }
        let network = tag
        _ = try blocking { try await client.createNetwork(name: network, labels: labels) }
        let events = try EventLog(filters: ["label=berth-bench.floor=\(tag)"])
        defer {
            events.stop()
            _ = try? blocking {
                for c in try await client.listContainers(labels: labels) { try? await client.removeContainer(c.Id) }
                try await client.removeNetwork(network)
            }
        }
        let body = Engine.ContainerCreate(
            Image: image, Labels: labels,
            HostConfig: Engine.HostConfig(
                NetworkMode: network, SecurityOpt: ["no-new-privileges"], PidsLimit: DockerRuntime.defaultPidsLimit),
            NetworkingConfig: .init(EndpointsConfig: [network: .init(Aliases: ["web"])]))
        @Sendable func replace(_ victims: [String]) async throws -> [String] {
            try await withThrowingTaskGroup(of: String?.self) { group in
                for id in victims { group.addTask { try await client.killContainer(id); return nil } }
                for _ in 0..<3 {
                    group.addTask {
                        let id = try await client.createContainer(name: "\(tag)-\(UInt32.random(in: 0...UInt32.max))", body)
                        try await client.startContainer(id)
                        return id
                    }
                }
                var started: [String] = []
                for try await id in group { if let id { started.append(id) } }
                return started
            }
        }

        var victims = try blocking { try await replace([]) }
        var figures = HealBench.Figures()
        for round in 0..<rounds {
            Thread.sleep(forTimeInterval: 1)
            let mark = events.count
            let old = Set(victims)
            let started = try blocking { [victims] in try await replace(victims) }
            guard HealBench.wait(10, { events.all(after: mark).filter { $0.action == "start" && !old.contains($0.id) }.count >= 3 })
            else { throw BenchError("docker floor, round \(round + 1): 3 replacements did not report started within 10 s") }
            let after = events.all(after: mark)
            let (kills, starts) = HealBench.killsAndStarts(after, victims: old)
            guard kills.count == 3 else { throw BenchError("docker floor, round \(round + 1): \(kills.count) kill events") }
            figures.addRound(kills: kills, starts: starts)
            _ = try blocking { [victims] in for id in victims { try? await client.removeContainer(id) } }
            victims = started
        }
        return figures
    }
}
