extension FieldFlattener {
    /// The container settings' fields, spelled as in the manifest; a secret's content as
    /// `secret.NAME` (the id of its encrypted file: shown masked, compared exactly).
    static func flatten(_ c: ContainerSettings, into out: inout [String: JSONValue]) {
        guard c != .standard else { return }
        if c.pullPolicy != .ifNotPresent { out["spec.pullPolicy"] = .string(c.pullPolicy.rawValue) }
        if let entrypoint = c.entrypoint { out["spec.entrypoint"] = .array(entrypoint.map(JSONValue.string)) }
        if let user = c.user { out["spec.user"] = .string(user) }
        if let dir = c.workingDir { out["spec.workingDir"] = .string(dir) }
        if c.readOnlyRootFilesystem { out["spec.readOnly"] = .bool(true) }
        if let caps = c.capabilities {
            if !caps.add.isEmpty { out["spec.capabilities.add"] = .array(caps.add.map(JSONValue.string)) }
            if !caps.drop.isEmpty { out["spec.capabilities.drop"] = .array(caps.drop.map(JSONValue.string)) }
        }
        if c.initProcess { out["spec.init"] = .bool(true) }
        if !c.volumes.isEmpty {
            out["spec.volumes"] = .array(c.volumes.map { v in
                var o: [String: JSONValue] = ["mountPath": .string(v.mountPath), "readOnly": .bool(v.readOnly)]
                switch v.source {
                case .named(let name): o["name"] = .string(name)
                case .host(let path): o["hostPath"] = .string(path)
                }
                if v.singleWriter { o["singleWriter"] = .bool(true) }
                return .object(o)
            })
        }
        if !c.envFiles.isEmpty { out["spec.envFrom"] = .array(c.envFiles.map { .object(["file": .string($0)]) }) }
        for (key, secret) in c.secretEnv { out["spec.env.\(key)"] = .object(["secret": .string(secret)]) }
        if !c.secretFiles.isEmpty {
            out["spec.secrets"] = .array(c.secretFiles.map { .object(["name": .string($0.name), "mountPath": .string($0.mountPath)]) })
        }
        for (name, version) in c.secretVersions { out["secret.\(name)"] = .string(version) }
    }

    /// How a secret's content is shown: never its value, nor the id of its encrypted file.
    static func maskedSecretContent(from: JSONValue, to: JSONValue) -> (JSONValue, JSONValue) {
        switch (from, to) {
        case (.null, .null): (.null, .null)
        case (.null, _): (.null, .string("(secret)"))
        case (_, .null): (.string("(secret)"), .null)
        default: (.string("(secret)"), .string("(secret changed)"))
        }
    }
}
