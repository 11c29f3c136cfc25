import BerthYAML

// The value types of the manifest format: how each kind of value is read from its node and
// checked, with the message that says what was expected. `ManifestSchema` names them.

extension ValueType where T == NodeID {
    /// The node itself, read on by hand.
    static var node: ValueType { ValueType { _, node, _ in node } }
}

extension ValueType where T == String {
    static var image: ValueType {
        ValueType { r, node, path in
            guard let image = r.string(node, path, expected: "a Docker image reference such as shop/booking:1.0") else { return nil }
            if let problem = Formats.imageProblem(image) {
                r.error(at: r.mark(node), path(), "invalid image reference \(FieldReader.quoted(image)): \(problem)")
                return nil
            }
            return image
        }
    }

    /// A URL path starting with '/' (a whole `Character`, as `String.hasPrefix` says).
    static var urlPath: ValueType {
        ValueType { r, node, path in
            guard let text = r.string(node, path, expected: "a URL path such as /healthz") else { return nil }
            guard text.hasPrefix("/") else {
                r.error(at: r.mark(node), path(), "expected a URL path starting with '/' such as /healthz, found \(FieldReader.quoted(text))")
                return nil
            }
            return text
        }
    }
}

extension ValueType where T == ManifestSchema.ServiceName {
    /// An RFC 1123 label. An invalid one is reported but still read, so a `dependsOn` naming
    /// it is not reported a second time as an unknown service.
    static var serviceName: ValueType {
        ValueType { r, node, path in
            guard let text = r.string(node, path, expected: "a service name") else { return nil }
            if let problem = Formats.labelNameProblem(text) {
                r.error(at: r.mark(node), path(), "invalid service name \(FieldReader.quoted(text)): \(problem)")
            }
            return ManifestSchema.ServiceName(text: text, mark: r.mark(node))
        }
    }
}

extension ValueType where T == Int {
    /// An integer from `minimum` to `maximum`; above the maximum the message names it with
    /// its `unit` ("expected at most 10000 replicas").
    static func integer(atLeast minimum: Int, atMost maximum: Int, unit: String) -> ValueType {
        let expected = "an integer of at least \(minimum)"  // spelled once, not per value read
        return ValueType { r, node, path in
            r.int(node, path, in: minimum...maximum, expected: expected, unit: unit)
        }
    }

    static var port: ValueType { ValueType { r, node, path in r.port(node, path) } }

    /// CPUs as thousandths, exactly: `0.5` → 500, `2` → 2000; at most `ManifestLimits.milliCPUs`.
    static var cpus: ValueType {
        ValueType { r, node, path in
            guard let milli = cpus(&r, node, path) else { return nil }
            guard milli <= ManifestLimits.milliCPUs else {
                r.error(at: r.mark(node), path(), "expected at most \(ManifestLimits.milliCPUs / 1000) CPUs, found \(r.found(node))")
                return nil
            }
            return milli
        }
    }

    private static func cpus(_ r: inout FieldReader, _ node: NodeID, _ path: FieldReader.Path) -> Int? {
        let expected = "a number of CPUs greater than 0 such as 0.5 or 2"
        guard r.doc.isScalar(node) else {
            r.error(at: r.mark(node), path(), "expected \(expected), found \(r.found(node))")
            return nil
        }
        if r.doc.isPlainScalar(node), let milli = r.doc.withBytes(node, { ServiceDecoder.simpleMilliCPUs(bytes: $0) }) {
            return milli
        }
        switch r.doc.resolved(node) {
        case .int, .float:
            break
        default:
            r.error(at: r.mark(node), path(), "expected \(expected), found \(r.found(node))")
            return nil
        }
        // Decimal text → thousandths without floating point.
        let value = r.doc.text(node)
        let text = value.hasPrefix("+") ? String(value.dropFirst()) : value
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        guard whole.allSatisfy({ $0.isASCII && $0.isNumber }), fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
            whole.count <= 6, !(whole.isEmpty && fraction.isEmpty)
        else {
            r.error(at: r.mark(node), path(), "expected \(expected), found \(FieldReader.shortened(value))")
            return nil
        }
        guard fraction.count <= 3 || fraction.dropFirst(3).allSatisfy({ $0 == "0" }) else {
            r.error(at: r.mark(node), path(), "expected a number of CPUs with at most 3 decimal places, found \(FieldReader.shortened(value))")
            return nil
        }
        let thousandths = String(fraction.prefix(3)) + String(repeating: "0", count: max(0, 3 - fraction.prefix(3).count))
        let milli = (Int(whole) ?? 0) * 1000 + (Int(thousandths) ?? 0)
        guard milli > 0 else {
            r.error(at: r.mark(node), path(), "expected \(expected), found \(FieldReader.shortened(value))")
            return nil
        }
        return milli
    }
}

extension ValueType where T == Int64 {
    /// Bytes: `256Mi`, `1Gi`, `512M`; from 6Mi (Docker's smallest limit) to `ManifestLimits.memory`.
    static var memory: ValueType {
        ValueType { r, node, path in
            let expected = "a memory size such as 256Mi, 1Gi or 512M (suffixes k, Ki, M, Mi, G, Gi)"
            var bytes: Int64? = nil
            if r.doc.isScalar(node), !r.doc.resolvesToNull(node) {
                bytes = r.doc.withBytes(node) { Formats.simpleMemoryBytes(bytes: $0) } ?? Formats.generalMemoryBytes(r.doc.text(node))
            }
            guard let bytes else {
                r.error(at: r.mark(node), path(), "expected \(expected), found \(r.found(node))")
                return nil
            }
            guard bytes >= ServiceDecoder.minimumMemory else {
                r.error(at: r.mark(node), path(), "expected at least 6Mi (Docker's smallest memory limit), found \(r.found(node))")
                return nil
            }
            guard bytes <= ManifestLimits.memory else {
                r.error(at: r.mark(node), path(), "expected at most \(ManifestLimits.memory >> 30)Gi (4 TiB), found \(r.found(node))")
                return nil
            }
            return bytes
        }
    }
}

extension ValueType where T == HealthCheck.Probe {
    /// One kind of probe, read by its own schema into `prototype` and made a `Probe`.
    static func probe<P: Sendable>(_ schema: Schema<P>, _ prototype: P, _ make: @escaping @Sendable (P) -> HealthCheck.Probe) -> ValueType {
        ValueType<P>.object(schema, prototype).map(make)
    }
}

extension ValueType where T == Millis {
    /// `250ms`, `2s`, `1m30s`, at most `ManifestLimits.duration`; with `positive`, more than 0.
    static func duration(positive: Bool = false) -> ValueType {
        ValueType { r, node, path in r.duration(node, path, positive: positive) }
    }
}

extension ValueType where T == IntOrPercent {
    static var countOrPercent: ValueType { ValueType { r, node, path in r.intOrPercent(node, path) } }
}

extension ValueType where T: RawRepresentable & Sendable, T.RawValue == String {
    /// One of `cases`, by its raw value.
    static func oneOf(_ cases: [T]) -> ValueType { ValueType { r, node, path in r.oneOf(node, path, cases) } }
}

extension ValueType where T == [String] {
    /// A list of at least one string (a command).
    static func strings(example: String) -> ValueType {
        ValueType { r, node, path in r.stringList(node, path, example: example) }
    }

    /// `dependsOn`: service names, each once, sorted (order means nothing); each entry's
    /// place is kept for the checks across files.
    static var dependencies: ValueType {
        ValueType { r, node, path in
            guard r.doc.kind(node) == .sequence else {
                r.error(at: r.mark(node), path(), "expected a list of service names such as [customer], found \(r.found(node))")
                return nil
            }
            var names: [String] = []
            var marks: [Mark] = []
            var i = 0
            var cursor = r.doc.items(node)
            while let item = r.doc.nextItem(&cursor) {
                let itemPath = "\(path())[\(i)]"
                i += 1
                guard let dep = r.string(item, { itemPath }, expected: "a service name") else { continue }
                if let first = names.firstIndex(of: dep) {
                    r.error(at: r.mark(item), itemPath, "\(FieldReader.quoted(dep)) is listed twice (first at \(marks[first].line):\(marks[first].column))")
                    continue
                }
                names.append(dep)
                marks.append(r.mark(item))
                r.references.append(.init(name: dep, source: r.ref(r.mark(item)), path: itemPath))
            }
            return names.sorted()
        }
    }
}

extension ValueType where T == [String: String] {
    /// `metadata.labels`: names (not empty, not Berth's own `berth.`) to values as written.
    static var labels: ValueType {
        ValueType { r, node, path in
            r.stringMap(node, path) { r, key, keyNode in
                if key.isEmpty {
                    r.error(at: r.mark(keyNode), path(), "a label name cannot be empty")
                    return false
                }
                if key.hasPrefix("berth.") {
                    r.error(
                        at: r.mark(keyNode), FieldReader.join(path(), key),
                        "label names starting with \"berth.\" are reserved for Berth's own labels; choose another name")
                    return false
                }
                return true
            }
        }
    }
}

extension ValueType where T == [PortSpec] {
    /// `ports`: each item by `ManifestSchema.port`; a container port listed twice, or a host
    /// port published twice, is an error at the second. Sorted by container port (order
    /// means nothing to the runtime, so reordering is no change). Published ports' places
    /// are kept for the checks across files.
    static var ports: ValueType {
        ValueType { r, node, path in
            guard r.doc.kind(node) == .sequence else {
                r.error(at: r.mark(node), path(), "expected a list of ports such as [{containerPort: 8080}], found \(r.found(node))")
                return nil
            }
            let schema = ManifestSchema.port
            let (containerPort, publish) = ("containerPort", "publish")
            var ports: [PortSpec] = []
            var containerMarks: [Mark] = []
            var published: [(port: Int, mark: Mark)] = []
            var i = 0
            var cursor = r.doc.items(node)
            while let item = r.doc.nextItem(&cursor) {
                let index = i
                i += 1
                func itemPath() -> String { "\(path())[\(index)]" }
                var port = PortSpec(containerPort: 0)
                if r.doc.isScalar(item), let berth = ComposeHints.port(r.doc.text(item)) {
                    r.error(
                        at: r.mark(item), itemPath(),
                        "expected a mapping, found \(r.found(item)) (Compose's short syntax); did you mean \(berth)?")
                    continue
                }
                guard let fields = r.object(item, itemPath, schema, into: &port, keepingNodes: true) else { continue }
                var containerOK = false
                if fields.has(containerPort), !fields.failed(containerPort) {
                    let mark = r.mark(fields.value(containerPort)!)
                    if let first = ports.firstIndex(where: { $0.containerPort == port.containerPort && $0.protocol == port.protocol }) {
                        let at = containerMarks[first]
                        r.error(
                            at: mark, "\(itemPath()).containerPort",
                            "container port \(port.containerPort)\(port.protocol == .udp ? "/udp" : "") is listed twice (first at \(at.line):\(at.column))")
                    } else {
                        containerOK = true
                    }
                    if containerOK { containerMarks.append(mark) }
                }
                if let p = port.publish, fields.has(publish), !fields.failed(publish) {
                    let mark = r.mark(fields.value(publish)!)
                    if let first = published.first(where: { $0.port == p }) {
                        r.error(
                            at: mark, "\(itemPath()).publish",
                            "host port \(p) is published twice (first at \(first.mark.line):\(first.mark.column))")
                        port.publish = nil
                    } else {
                        published.append((p, mark))
                        r.published.append(.init(port: p, source: r.ref(mark), path: "\(itemPath()).publish"))
                    }
                }
                if containerOK { ports.append(port) }
            }
            return ports.sorted { ($0.containerPort, $0.protocol.rawValue) < ($1.containerPort, $1.protocol.rawValue) }
        }
    }
}
