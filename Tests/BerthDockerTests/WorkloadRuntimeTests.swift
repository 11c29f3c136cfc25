import BerthCore
import BerthDocker
import Foundation
import Testing

/// Entrypoint, user, working directory, read-only root, capabilities, init, UDP ports,
/// volumes, secrets (env and files) and restart policies, on the real engine.
@Suite("Docker runtime: workload settings")
struct WorkloadRuntimeTests {
    @Test func everySettingReachesTheContainer() async throws {
        try await withProject("wl") { runtime, project in
            var s = spec("worker", image: "shop/customer:1.0", grace: Millis(1000))
            s.command = ["echo started; sleep 300"]
            s.ports = [PortSpec(containerPort: 5353, protocol: .udp)]
            s.container.entrypoint = ["/bin/sh", "-c"]
            s.container.user = "1000:1000"
            s.container.workingDir = "/tmp"
            s.container.readOnlyRootFilesystem = true
            s.container.initProcess = true
            s.container.capabilities = Capabilities(add: ["NET_BIND_SERVICE"], drop: ["ALL"])
            s.container.volumes = [VolumeMount(source: .named("notes"), mountPath: "/data")]
            s.container.secretEnv = ["DB_PASSWORD": "db-password"]
            s.container.secretFiles = [SecretMount(name: "tls-key", mountPath: "/run/secrets/tls.key")]
            let secrets = SecretValues(["db-password": Array("pw-in-env\n".utf8), "tls-key": Array("KEY-IN-FILE".utf8)])
            let instance = try await runtime.startInstance(.init(project: project, spec: s, commit: nil, secrets: secrets))
            let details = try await runtime.client.inspectContainer(instance.id)
            #expect(details.Config.Entrypoint == ["/bin/sh", "-c"])
            #expect(details.Config.User == "1000:1000")
            #expect(details.Config.WorkingDir == "/tmp")
            #expect(details.HostConfig?.ReadonlyRootfs == true)
            #expect(details.HostConfig?.Init == true)
            #expect(details.HostConfig?.CapAdd == ["NET_BIND_SERVICE"])
            #expect(details.HostConfig?.CapDrop == ["ALL"])
            let mounts = try #require(details.HostConfig?.Mounts)
            #expect(mounts.map(\.Target) == ["/data", "/run/secrets/tls.key"])
            #expect(mounts[0] == Engine.Mount(Type: "volume", Source: "\(project)_notes", Target: "/data"))
            #expect(mounts[1].ReadOnly == true)
            // The secret file lives on tmpfs, never on the disk.
            let source = try #require(mounts[1].Source)
            #expect(source.hasPrefix("/dev/shm/") || source.hasPrefix("/run/"))

            // Inside: the user, the working directory, the read-only root, PID 1 is the init.
            let id = try await runtime.client.exec(instance.id, ["sh", "-c", "id -u; pwd; touch /x 2>&1 | head -c 40; echo; cat /proc/1/comm"])
            #expect(id.stdout.split(separator: "\n").map(String.init) == ["1000", "/tmp", "touch: /x: Read-only file system", "docker-init"])
            let env = try await runtime.client.exec(instance.id, ["sh", "-c", "echo \"[$DB_PASSWORD]\"; cat /run/secrets/tls.key"])
            #expect(env.stdout == "[pw-in-env]\nKEY-IN-FILE")

            // The volume is the project's, labelled, and the labels carry no secret.
            let volume = try await runtime.client.inspectVolume("\(project)_notes")
            #expect(volume.Labels == [BerthLabel.project: project, BerthLabel.volume: "notes"])
            #expect(try await runtime.volumes(project: project) == ["notes"])
            let labels = (details.Config.Labels ?? [:]).values.joined(separator: "\n")
            #expect(!labels.contains("pw-in-env") && !labels.contains("KEY-IN-FILE"))
            #expect(details.Config.Labels?[BerthLabel.imageDigest]?.hasPrefix("sha256:") == true)

            // Removing the instance removes its secret files.
            try await runtime.removeInstance(id: instance.id, grace: .zero)
            #expect(!FileManager.default.fileExists(atPath: source))
            // The volume stays until it is removed by name.
            #expect(try await runtime.volumes(project: project) == ["notes"])
        }
    }

    @Test func dataInANamedVolumeOutlivesTheContainer() async throws {
        try await withProject("vol") { runtime, project in
            var s = spec("notes", image: "shop/customer:1.0", grace: Millis(1000))
            s.container.volumes = [VolumeMount(source: .named("notes"), mountPath: "/data")]
            let first = try await runtime.startInstance(.init(project: project, spec: s, commit: nil))
            _ = try await runtime.client.exec(first.id, ["sh", "-c", "echo revision-1 > /data/note"])
            try await runtime.removeInstance(id: first.id, grace: .zero)
            s.env = ["REVISION": "2"]
            let second = try await runtime.startInstance(.init(project: project, spec: s, commit: nil))
            #expect(try await runtime.client.exec(second.id, ["cat", "/data/note"]).stdout == "revision-1\n")
            try await runtime.removeInstance(id: second.id, grace: .zero)
            try await runtime.removeVolume(project: project, name: "notes")
            #expect(try await runtime.volumes(project: project) == [])
        }
    }

    @Test func hostPathsMountReadOnlyUnlessToldOtherwise() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-host-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("from the host\n".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
        try await withProject("host") { runtime, project in
            var s = spec("reader", image: "shop/customer:1.0", grace: Millis(1000))
            s.container.volumes = [
                VolumeMount(source: .host(dir), mountPath: "/ro", readOnly: true),
                VolumeMount(source: .host(dir), mountPath: "/rw", readOnly: false),
            ]
            let instance = try await runtime.startInstance(.init(project: project, spec: s, commit: nil))
            #expect(try await runtime.client.exec(instance.id, ["cat", "/ro/file"]).stdout == "from the host\n")
            #expect(try await runtime.client.exec(instance.id, ["sh", "-c", "echo x > /ro/y"]).exitCode != 0)
            #expect(try await runtime.client.exec(instance.id, ["sh", "-c", "echo x > /rw/y"]).exitCode == 0)
        }
        #expect(FileManager.default.fileExists(atPath: dir + "/y"))
    }
}
