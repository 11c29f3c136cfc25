import BerthYAML

// The schemas and value types of the workload fields (`volumes`, `secrets`, `env` secrets,
// `envFrom`, `capabilities`, `user`, `workingDir`, booleans): `ManifestSchema.spec` names
// them, one entry each.

extension ManifestSchema {
    /// One item of `spec.volumes`: a named volume or a host path, and where it goes.
    static let volume = Schema<VolumeItem>(
        [
            .field("name", .resourceName(of: "volume")) { $0.name = $1 },
            .field("hostPath", .absolutePath) { $0.hostPath = $1 },
            .required("mountPath", .mountPath, missing: "add the path inside the container, e.g. \"mountPath: /data\"") { $0.mountPath = $1 },
            .field("readOnly", .boolean) { $0.readOnly = $1 },
            .field("singleWriter", .boolean) { $0.singleWriter = $1 },
            .field("allowSensitive", .boolean) { $0.allowSensitive = $1 },
        ],
        oneOf: (
            ["name", "hostPath"], "source",
            "expected one source: name (a volume of the project) or hostPath, found none; add e.g. \"name: data\""
        ),
        check: { r, item, fields, path in
            var ok = true
            if let host = item.hostPath, !fields.failed("hostPath"), !item.allowSensitive,
                let danger = HostPaths.danger(host)
            {
                r.error(
                    at: r.mark(fields.value("hostPath")!), FieldReader.join(path(), "hostPath"),
                    "refusing to mount \(FieldReader.quoted(host)): \(danger); if that is really intended, add \"allowSensitive: true\" to this volume")
                ok = false
            }
            if item.hostPath != nil, item.singleWriter, let node = fields.value("singleWriter") {
                r.error(at: r.mark(node), FieldReader.join(path(), "singleWriter"), "singleWriter applies to named volumes only; remove it from a hostPath volume")
                ok = false
            }
            return ok
        })

    struct VolumeItem: Sendable {
        var name: String?
        var hostPath: String?
        var mountPath = ""
        var readOnly: Bool?
        var singleWriter = false
        var allowSensitive = false

        var mount: VolumeMount {
            if let name { return VolumeMount(source: .named(name), mountPath: mountPath, readOnly: readOnly ?? false, singleWriter: singleWriter) }
            // Host paths are read-only unless the manifest says otherwise.
            return VolumeMount(source: .host(HostPaths.clean(hostPath ?? "/")), mountPath: mountPath, readOnly: readOnly ?? true)
        }
    }

    /// One item of `spec.secrets`.
    static let secret = Schema<SecretMount>([
        .required("name", .resourceName(of: "secret"), missing: "add the secret's name (its file is secrets/NAME.age)") { $0.name = $1 },
        .required("mountPath", .mountPath, missing: "add the file's path inside the container, e.g. \"mountPath: /run/secrets/tls.key\"") { $0.mountPath = $1 },
    ])

    /// One item of `spec.envFrom`.
    static let envFile = Schema<EnvFileItem>([
        .required("file", .repositoryPath, missing: "add the env file's path in the repository, e.g. \"file: env/common.env\"") { $0.file = $1 }
    ])

    struct EnvFileItem: Sendable {
        var file = ""
    }

    /// `spec.capabilities`.
    static let capabilities = Schema<Capabilities>([
        .field("add", .capabilityNames) { $0.add = $1 },
        .field("drop", .capabilityNames) { $0.drop = $1 },
    ])

    /// `{secret: NAME}` as an env value.
    static let secretReference = Schema<SecretReference>([
        .required("secret", .resourceName(of: "secret"), missing: "add the secret's name, e.g. {secret: db-password}") { $0.name = $1 }
    ])

    struct SecretReference: Sendable {
        var name = ""
    }

    /// The rules across the workload fields of a spec.
    static func checkWorkload(_ r: inout FieldReader, _ spec: inout ServiceSpec, _ fields: ObjectFields) -> Bool {
        var ok = true
        let c = spec.container
        // A mount path used twice (volumes and secret files together).
        var seen: [String: String] = [:]
        for (i, v) in c.volumes.enumerated() {
            if let other = seen[v.mountPath], let node = fields.value("volumes") {
                r.error(at: r.mark(node), "spec.volumes[\(i)].mountPath", "\(FieldReader.quoted(v.mountPath)) is already mounted by \(other)")
                ok = false
            }
            seen[v.mountPath] = "spec.volumes[\(i)]"
        }
        for (i, s) in c.secretFiles.enumerated() {
            if let other = seen[s.mountPath], let node = fields.value("secrets") {
                r.error(at: r.mark(node), "spec.secrets[\(i)].mountPath", "\(FieldReader.quoted(s.mountPath)) is already mounted by \(other)")
                ok = false
            }
            seen[s.mountPath] = "spec.secrets[\(i)]"
        }
        // A single-writer volume: never two containers at once.
        if let single = c.volumes.first(where: \.singleWriter), let volumes = fields.value("volumes") {
            let name = single.volumeName ?? ""
            if spec.replicas > 1, let node = fields.value("replicas") {
                r.error(at: r.mark(node), "spec.replicas", "volume \(FieldReader.quoted(name)) is singleWriter: run at most 1 replica")
                ok = false
            }
            if let max = spec.autoscale?.max, max > 1, let node = fields.value("autoscale") {
                r.error(at: r.mark(node), "spec.autoscale.max", "volume \(FieldReader.quoted(name)) is singleWriter: autoscale to at most 1 replica")
                ok = false
            }
            if spec.update.strategy == .rolling {
                r.error(
                    at: r.mark(fields.value("update") ?? volumes), fields.has("update") ? "spec.update.strategy" : "spec.volumes",
                    "volume \(FieldReader.quoted(name)) is singleWriter, and a rolling update would run the old and the new container on it at once; add \"update: {strategy: recreate}\"")
                ok = false
            }
        }
        return ok
    }
}

/// Host paths: cleaned, and the ones that hand a container the host.
enum HostPaths {
    /// `/srv//uploads/` → `/srv/uploads`.
    static func clean(_ path: String) -> String {
        let parts = path.split(separator: "/").filter { $0 != "." }
        return "/" + parts.joined(separator: "/")
    }

    /// Why mounting `path` would hand the container (part of) the host, or nil.
    static func danger(_ path: String) -> String? {
        let p = clean(path)
        if p == "/" { return "it is the host's whole filesystem" }
        let sockets = ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd", "/var/run", "/run"]
        if sockets.contains(p) { return "it is (or holds) the Docker engine's socket: a container with it controls the host" }
        let system: [String: String] = [
            "/etc": "host configuration", "/proc": "the host's processes", "/sys": "the host's kernel settings",
            "/dev": "the host's devices", "/boot": "the host's boot files", "/root": "root's home folder",
            "/var/lib/docker": "the Docker engine's own data", "/usr": "the host's programs", "/bin": "the host's programs",
            "/sbin": "the host's programs", "/lib": "the host's libraries", "/var": "the host's system data",
            "/home": "every user's home folder",
        ]
        for (prefix, what) in system where p == prefix || (p.hasPrefix(prefix + "/") && ["/proc", "/sys", "/dev", "/boot", "/var/lib/docker", "/etc"].contains(prefix)) {
            return "it is \(what)"
        }
        return nil
    }
}

extension ValueType where T == Bool {
    static var boolean: ValueType { ValueType { r, node, path in r.bool(node, path) } }
}

extension ValueType where T == String {
    /// A name of a volume or secret: lowercase letters, digits, '-', '_' and '.', starting
    /// and ending with a letter or digit, at most 63 (it becomes a file or volume name).
    static func resourceName(of what: String) -> ValueType {
        ValueType { r, node, path in
            guard let text = r.string(node, path, expected: "a \(what) name such as \(what == "secret" ? "db-password" : "data")") else { return nil }
            let u = Array(text.utf8)
            func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
            guard !u.isEmpty, u.count <= 63, alnum(u.first!), alnum(u.last!),
                u.allSatisfy({ alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
            else {
                r.error(
                    at: r.mark(node), path(),
                    "invalid \(what) name \(FieldReader.quoted(text)): use at most 63 lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit")
                return nil
            }
            return text
        }
    }

    /// An absolute path with no `..` and no NUL (`/app`, `/srv/uploads`).
    static var absolutePath: ValueType {
        ValueType { r, node, path in
            guard let text = r.string(node, path, expected: "an absolute path such as /app") else { return nil }
            if let problem = pathProblem(text, absolute: true) {
                r.error(at: r.mark(node), path(), "\(problem), found \(FieldReader.quoted(text))")
                return nil
            }
            return text
        }
    }

    /// A path inside the container to mount on: absolute, not `/` itself.
    static var mountPath: ValueType {
        ValueType { r, node, path in
            guard let text = ValueType.absolutePath.read(&r, node, path) else { return nil }
            guard HostPaths.clean(text) != "/" else {
                r.error(at: r.mark(node), path(), "cannot mount over the container's root \"/\"; choose a folder such as /data")
                return nil
            }
            return HostPaths.clean(text)
        }
    }

    /// A file's path in the repository: relative, no `..`, no leading '/'.
    static var repositoryPath: ValueType {
        ValueType { r, node, path in
            guard let text = r.string(node, path, expected: "a path in the repository such as env/common.env") else { return nil }
            if let problem = pathProblem(text, absolute: false) {
                r.error(at: r.mark(node), path(), "\(problem), found \(FieldReader.quoted(text))")
                return nil
            }
            return text.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        }
    }

    /// `user`: a name or numeric id, optionally `:group` (`1000:1000`, `app`, `app:staff`).
    static var user: ValueType {
        ValueType { r, node, path in
            guard let text = r.string(node, path, expected: "a user such as \"1000:1000\" or app") else { return nil }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            let valid = parts.count <= 2 && parts.allSatisfy { part in
                !part.isEmpty && part.utf8.count <= 32
                    && part.utf8.allSatisfy { c in
                        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F || c == 0x2E
                    }
            }
            guard valid else {
                r.error(at: r.mark(node), path(), "expected a user name or id, optionally with \":group\", such as \"1000:1000\" or app, found \(FieldReader.quoted(text))")
                return nil
            }
            return text
        }
    }

    /// Why `text` is not a usable path (nil when it is).
    static func pathProblem(_ text: String, absolute: Bool) -> String? {
        if text.isEmpty { return absolute ? "expected an absolute path such as /app" : "expected a path in the repository" }
        if text.utf8.contains(0) { return "a path cannot hold a NUL character" }
        if absolute && !text.hasPrefix("/") { return "expected an absolute path starting with '/'" }
        if !absolute && text.hasPrefix("/") { return "expected a path relative to the repository's root (no leading '/')" }
        if text.split(separator: "/").contains("..") { return "a path cannot contain \"..\"" }
        if text.utf8.count > 4096 { return "a path has at most 4096 bytes" }
        return nil
    }
}

extension ValueType where T == [String] {
    /// Linux capability names, `ALL` or e.g. `NET_BIND_SERVICE` (a `CAP_` prefix is dropped),
    /// each once, sorted.
    static var capabilityNames: ValueType {
        ValueType { r, node, path in
            guard r.doc.kind(node) == .sequence else {
                r.error(at: r.mark(node), path(), "expected a list of capabilities such as [ALL] or [NET_BIND_SERVICE], found \(r.found(node))")
                return nil
            }
            var out: [String] = []
            var ok = true
            var i = 0
            var cursor = r.doc.items(node)
            while let item = r.doc.nextItem(&cursor) {
                let itemPath = "\(path())[\(i)]"
                i += 1
                guard var name = r.string(item, { itemPath }, expected: "a capability name") else {
                    ok = false
                    continue
                }
                if name.hasPrefix("CAP_") { name = String(name.dropFirst(4)) }
                guard Capabilities.known.contains(name) else {
                    var message = "unknown capability \(FieldReader.quoted(name))"
                    if let close = Suggestion.closest(to: name.uppercased(), among: Capabilities.known) {
                        message += "; did you mean \(FieldReader.quoted(close))?"
                    } else {
                        message += " (capabilities are upper case, such as NET_BIND_SERVICE, or ALL)"
                    }
                    r.error(at: r.mark(item), itemPath, message)
                    ok = false
                    continue
                }
                if !out.contains(name) { out.append(name) }
            }
            return ok ? out.sorted() : nil
        }
    }
}

extension Capabilities {
    /// Linux's capabilities (capabilities(7)) and `ALL`.
    static let known = [
        "ALL", "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN",
        "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
        "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST",
        "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT",
        "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME",
        "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
    ]
}

extension ValueType where T == [VolumeMount] {
    /// `volumes`: each item by `ManifestSchema.volume`, in the order given.
    static var volumes: ValueType {
        ValueType { r, node, path in
            r.items(node, path, expected: "a list of volumes such as [{name: data, mountPath: /data}]", ManifestSchema.volume, ManifestSchema.VolumeItem())
                .map { $0.map(\.mount) }
        }
    }
}

extension ValueType where T == [SecretMount] {
    static var secretFiles: ValueType {
        ValueType { r, node, path in
            r.items(node, path, expected: "a list of secrets such as [{name: tls-key, mountPath: /run/secrets/tls.key}]", ManifestSchema.secret, SecretMount(name: "", mountPath: ""))
        }
    }
}

extension ValueType where T == [String] {
    /// `envFrom`: `[{file: env/common.env}]`, each file once.
    static var envFiles: ValueType {
        ValueType { r, node, path in
            guard let items = r.items(node, path, expected: "a list of env files such as [{file: env/common.env}]", ManifestSchema.envFile, ManifestSchema.EnvFileItem())
            else { return nil }
            var out: [String] = []
            for item in items where !out.contains(item.file) { out.append(item.file) }
            return out
        }
    }
}

extension FieldReader {
    /// A list whose items are objects read by `schema` from `prototype`; nil when any item
    /// had a problem (each reported).
    mutating func items<Item: Sendable>(
        _ node: NodeID, _ path: Path, expected: String, _ schema: Schema<Item>, _ prototype: Item
    ) -> [Item]? {
        guard doc.kind(node) == .sequence else {
            error(at: mark(node), path(), "expected \(expected), found \(found(node))")
            return nil
        }
        var out: [Item] = []
        var ok = true
        var i = 0
        var cursor = doc.items(node)
        while let item = doc.nextItem(&cursor) {
            let index = i
            i += 1
            var model = prototype
            guard let fields = object(item, { "\(path())[\(index)]" }, schema, into: &model), fields.ok else {
                ok = false
                continue
            }
            out.append(model)
        }
        return ok ? out : nil
    }

    /// `env`: names to values taken as written, or to `{secret: NAME}` (into `secretEnv`).
    mutating func environment(_ node: NodeID, _ path: Path, into spec: inout ServiceSpec) -> Bool {
        guard doc.kind(node) == .mapping else {
            error(at: mark(node), path(), "expected a mapping of names to strings, found \(found(node))" + composeEnvHint(node))
            return false
        }
        // Secret references first, then the plain values by the usual reader (which reports
        // anything else that is not a scalar).
        var secrets: [String: String] = [:]
        var ok = true
        var cursor = doc.entries(node)
        while let entry = doc.nextEntry(&cursor) {
            guard doc.isScalar(entry.key), doc.kind(entry.value) == .mapping else { continue }
            let key = doc.text(entry.key)
            // `{secret: NAME}`, or a misspelling of it (one key close to "secret"): read as a
            // reference, so the message says "did you mean"; any other mapping is no env value.
            var single: NodeID? = nil
            if doc.count(entry.value) == 1 {
                var inner = doc.entries(entry.value)
                single = doc.nextEntry(&inner)?.key
            }
            let misspelt = single.map { doc.isScalar($0) && Suggestion.closest(to: doc.text($0), among: ["secret"]) != nil } ?? false
            guard doc.value(entry.value, forKey: "secret") != nil || misspelt else {
                error(
                    at: mark(entry.value), FieldReader.join(path(), key),
                    "expected a string or {secret: NAME}, found a mapping; quote it to keep it as text")
                ok = false
                continue
            }
            var reference = ManifestSchema.SecretReference()
            if let fields = object(entry.value, { FieldReader.join(path(), key) }, ManifestSchema.secretReference, into: &reference), fields.ok {
                if secrets[key] == nil { secrets[key] = reference.name }
            } else {
                ok = false
            }
        }
        let plain = stringMap(node, path, skippingMappings: true) { r, key, keyNode in
            guard r.doc.withBytes(keyNode, { ServiceDecoder.isInvalidVariableName(bytes: $0) }) ?? ServiceDecoder.isInvalidVariableName(key) else {
                return true
            }
            r.error(at: r.mark(keyNode), path(), "invalid variable name \(FieldReader.quoted(key)): names cannot be empty or hold '='")
            return false
        }
        guard ok, let plain else { return false }
        spec.env = plain
        if !secrets.isEmpty { spec.container.secretEnv = secrets }
        return true
    }
}
