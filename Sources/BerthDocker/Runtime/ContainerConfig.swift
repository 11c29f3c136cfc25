import BerthCore

/// The Engine's container-create body for one instance: image, command, entrypoint, user,
/// working directory, env (with secrets' values, given here and nowhere else), labels,
/// mounts, capabilities, restart policy and limits.
extension DockerRuntime {
    static func createBody(
        _ request: InstanceRequest, network: String, secretMounts: [Engine.Mount], imageDigest: String?
    ) throws -> Engine.ContainerCreate {
        let spec = request.spec
        let c = spec.container
        let graceSeconds = Self.wholeSeconds(spec.stopGracePeriod)
        var env = spec.env
        for (variable, secret) in c.secretEnv {
            guard let bytes = request.secrets[secret] else {
                throw DockerError(.engine, "secret \"\(secret)\" (for env \(variable)) has no value")
            }
            // One trailing newline (as `echo … | berth secret encrypt` leaves) is not part of an env value.
            var value = bytes
            if value.last == UInt8(ascii: "\n") { value.removeLast() }
            guard !value.contains(0) else { throw DockerError(.engine, "secret \"\(secret)\" holds a NUL byte and cannot be an env value (\(variable)); mount it as a file") }
            env[variable] = String(decoding: value, as: UTF8.self)
        }
        var mounts: [Engine.Mount] = c.volumes.map { v in
            switch v.source {
            case .named(let name):
                Engine.Mount(Type: "volume", Source: BerthNaming.volume(project: request.project, name: name), Target: v.mountPath, ReadOnly: v.readOnly ? true : nil)
            case .host(let path):
                Engine.Mount(Type: "bind", Source: path, Target: v.mountPath, ReadOnly: v.readOnly ? true : nil)
            }
        }
        mounts += secretMounts
        var labels = BerthLabel.labels(for: request)
        if let imageDigest { labels[BerthLabel.imageDigest] = imageDigest }
        let exposed = spec.ports.filter { $0.protocol == .udp }
        return Engine.ContainerCreate(
            Image: spec.image,
            Cmd: spec.command,
            Entrypoint: c.entrypoint,
            User: c.user,
            WorkingDir: c.workingDir,
            ExposedPorts: exposed.isEmpty ? nil : Dictionary(uniqueKeysWithValues: exposed.map { ("\($0.containerPort)/udp", Engine.Empty()) }),
            Env: env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
            Labels: labels,
            StopTimeout: graceSeconds,
            HostConfig: Engine.HostConfig(
                NetworkMode: network, RestartPolicy: Engine.RestartPolicy(Name: "no"),
                NanoCpus: spec.resources?.milliCPUs.map { Int64(min(max($0, 0), ManifestLimits.milliCPUs)) * 1_000_000 },
                Memory: spec.resources?.memory,
                Init: c.initProcess ? true : nil,
                Mounts: mounts.isEmpty ? nil : mounts,
                ReadonlyRootfs: c.readOnlyRootFilesystem ? true : nil,
                CapAdd: c.capabilities.flatMap { $0.add.isEmpty ? nil : $0.add },
                CapDrop: c.capabilities.flatMap { $0.drop.isEmpty ? nil : $0.drop },
                SecurityOpt: ["no-new-privileges"], PidsLimit: Self.defaultPidsLimit),
            NetworkingConfig: .init(EndpointsConfig: [network: .init(Aliases: [spec.name])]))
    }
}
