import BerthCore
import BerthDocker
import Foundation
import Testing

/// Who restarts a container whose process exits: nobody but Berth as created (policy `no`:
/// the executor waits for its health), Docker once handed over (after `berth apply`: the
/// policy `restart` asks for), and the hand-over both ways, in place.
@Suite("Docker runtime: restarts handed between Docker and Berth", .serialized)
struct RestartHandoverTests {
    /// A process that exits with code 3 three seconds after it starts.
    static func crasher(_ name: String, restart: RestartPolicy) -> ServiceSpec {
        var s = spec(name, image: "shop/customer:1.0", grace: Millis(1000))
        s.container.entrypoint = ["/bin/sh", "-c"]
        s.command = ["sleep 3; exit 3"]
        s.restart = restart
        return s
    }

    @Test func eachRestartSettingMapsToItsPolicyAndWatchTakesThemOverAndGivesThemBack() async throws {
        try await withProject("rs") { runtime, project in
            var ids: [RestartPolicy: String] = [:]
            for restart in [RestartPolicy.always, .onFailure, .never] {
                var s = spec("s-\(restart.rawValue)", image: "shop/customer:1.0", grace: Millis(1000))
                s.restart = restart
                ids[restart] = try await runtime.startInstance(.init(project: project, spec: s, commit: nil)).id
            }
            func policies() async throws -> [String] {
                var out: [String] = []
                for restart in [RestartPolicy.always, .onFailure, .never] {
                    out.append(try await runtime.client.inspectContainer(ids[restart]!).HostConfig?.RestartPolicy?.Name ?? "?")
                }
                return out
            }
            // As created: Berth's, whatever `restart` says.
            #expect(try await policies() == ["no", "no", "no"])
            // Apply ends: Docker's, as each `restart` asks; the `never` one needs no change.
            #expect(try await runtime.handOverRestarts(project: project, to: .docker) == 2)
            #expect(try await policies() == ["unless-stopped", "on-failure", "no"])
            #expect(try await runtime.handOverRestarts(project: project, to: .docker) == 0)
            // Watch starts: nothing is Docker's to restart.
            #expect(try await runtime.handOverRestarts(project: project, to: .berth) == 2)
            #expect(try await policies() == ["no", "no", "no"])
            // Watch stops: back to what each service's `restart` asks.
            #expect(try await runtime.handOverRestarts(project: project, to: .docker) == 2)
            #expect(try await policies() == ["unless-stopped", "on-failure", "no"])
        }
    }

    @Test func dockerRestartsACrashedContainerOnlyWhenItOwnsRestarts() async throws {
        try await withProject("rc") { runtime, project in
            // Handed to Docker (as apply does at its end): the same container runs again after each exit.
            let byDocker = try await runtime.startInstance(.init(project: project, spec: Self.crasher("a", restart: .always), commit: nil))
            #expect(try await runtime.handOverRestarts(project: project, to: .docker) == 1)
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            var restarts = 0
            while clock.now < deadline {
                restarts = try await runtime.client.inspectContainer(byDocker.id).RestartCount ?? 0
                if restarts >= 1 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(restarts >= 1, "Docker did not restart the crashed container within 30 s")

            // As created (Berth's: a rollout waiting for it, or watch): it exits with 3 and
            // stays exited for Berth to see.
            let byBerth = try await runtime.startInstance(.init(project: project, spec: Self.crasher("b", restart: .always), commit: nil))
            var state = try await runtime.client.inspectContainer(byBerth.id).State
            let exitDeadline = clock.now + .seconds(30)
            while state.Running && clock.now < exitDeadline {
                try await Task.sleep(for: .milliseconds(200))
                state = try await runtime.client.inspectContainer(byBerth.id).State
            }
            #expect(!state.Running && state.ExitCode == 3)
            // Docker's first restart comes 100 ms after an exit: two seconds is twenty times that.
            try await Task.sleep(for: .seconds(2))
            let later = try await runtime.client.inspectContainer(byBerth.id)
            #expect(later.RestartCount == 0 && later.State.Status == "exited")
        }
    }
}
