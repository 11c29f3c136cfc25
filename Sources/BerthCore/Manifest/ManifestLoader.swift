import BerthYAML

/// A manifest file's bytes and its path (repository-relative, or as given on the command line).
public struct ManifestFile: Sendable, Hashable {
    public var path: String
    public var bytes: [UInt8]
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }
}

/// What one file declares: its services and its own problems. A pure function of the
/// file's bytes and path, so callers may cache it by content (a git blob id).
public struct FileManifests: Sendable, Hashable {
    public var path: String
    /// The services of this file that have no problem of their own.
    public var services: [ServiceSpec]
    public var diagnostics: [Diagnostic]
    /// Every object that names a service, valid or not, with the places the checks across
    /// files point at. Empty when built by hand: `assemble` then derives it from `services`.
    public var declared: [DeclaredService]

    public init(
        path: String, services: [ServiceSpec] = [], diagnostics: [Diagnostic] = [],
        declared: [DeclaredService] = []
    ) {
        self.path = path
        self.services = services
        self.diagnostics = diagnostics
        self.declared = declared
    }
}

/// A service as one document declares it: its name and where, the places of its
/// `dependsOn` entries and published ports, and its spec when the document is valid.
public struct DeclaredService: Sendable, Hashable {
    public struct Reference: Sendable, Hashable {
        public var name: String
        public var source: SourceRef
        /// The field path of the entry (`spec.dependsOn[1]`).
        public var path: String
        public init(name: String, source: SourceRef, path: String) {
            self.name = name
            self.source = source
            self.path = path
        }
    }
    public struct Published: Sendable, Hashable {
        public var port: Int
        public var source: SourceRef
        public var path: String
        public init(port: Int, source: SourceRef, path: String) {
            self.port = port
            self.source = source
            self.path = path
        }
    }

    public var name: String
    /// The place of `metadata.name`'s value.
    public var source: SourceRef
    public var dependsOn: [Reference]
    public var published: [Published]
    /// Nil when the document has errors.
    public var spec: ServiceSpec?

    public init(
        name: String, source: SourceRef, dependsOn: [Reference] = [], published: [Published] = [],
        spec: ServiceSpec? = nil
    ) {
        self.name = name
        self.source = source
        self.dependsOn = dependsOn
        self.published = published
        self.spec = spec
    }

    /// The declaration of a spec built without a file (tests, tools).
    init(spec: ServiceSpec, file: String) {
        let source = spec.source ?? SourceRef(file: file, line: 1, column: 1)
        self.init(
            name: spec.name, source: source,
            dependsOn: spec.dependsOn.enumerated().map {
                Reference(name: $1, source: source, path: "spec.dependsOn[\($0)]")
            },
            published: spec.ports.enumerated().compactMap { i, p in
                p.publish.map { Published(port: $0, source: source, path: "spec.ports[\(i)].publish") }
            },
            spec: spec)
    }
}

/// Manifests → desired state. `parse` works on one file (YAML, decoding, per-object checks);
/// `assemble` adds the checks across files (duplicate names, unknown `dependsOn`, cycles).
///
/// A service with an error is left out of `DesiredState.services` while the valid ones stay,
/// so one broken manifest does not stop the others from being planned; the diagnostics
/// carry the errors, and the planner never prunes while there are any (a left-out service
/// is therefore kept running as it is, never deleted). A service that depends, directly or
/// through others, on a left-out service is held back too, with a warning saying why, so
/// it is never started or updated ahead of a dependency Berth cannot read.
public enum ManifestLoader {
    public static func parse(_ file: ManifestFile) -> FileManifests {
        var stats = ParseStats()
        return parse(file, fastPath: true, stats: &stats)
    }

    /// How many documents each path decoded (for tests and benchmarks).
    struct ParseStats: Equatable {
        var fast = 0
        var tree = 0
    }

    /// `parse`, with the fast path (`FastServiceDecoder`) on or off. Off, every document
    /// goes through node trees; on, ordinary documents skip them and the rest fall back.
    /// Both give the same answer.
    static func parse(_ file: ManifestFile, fastPath: Bool, stats: inout ParseStats) -> FileManifests {
        var diagnostics: [Diagnostic] = []
        var declared: [DeclaredService] = []
        var documentOf: [Int] = []  // per declared service, its document's index in `starts`
        var starts: [Mark] = []
        let tree = { (document: Document) in
            stats.tree += 1
            starts.append(document.start)
            guard let root = document.root else { return }
            var decoder = ServiceDecoder(r: FieldReader(file: file.path))
            if let service = decoder.decode(root) {
                declared.append(service)
                documentOf.append(starts.count - 1)
            }
            if !decoder.r.diagnostics.isEmpty { diagnostics += decoder.r.diagnostics }
        }
        let yamlErrors: [YAMLError]
        if fastPath {
            let decoder = FastServiceDecoder(file: file.path)
            yamlErrors = YAML.parseDocuments(
                file.bytes,
                fast: { reader in
                    guard let service = try? decoder.decode(&reader) else { return false }
                    stats.fast += 1
                    starts.append(reader.documentStart)
                    declared.append(service)
                    documentOf.append(starts.count - 1)
                    return true
                },
                tree: tree)
        } else {
            yamlErrors = YAML.parseDocuments(file.bytes, tree)
        }
        if !yamlErrors.isEmpty {
            for e in yamlErrors {
                diagnostics.append(
                    Diagnostic(.error, file: file.path, line: e.mark.line, column: e.mark.column, path: "", message: e.message))
            }
            // A YAML error inside a delivered document (a duplicate key) makes its service
            // invalid. Error marks sorted once, each document's range found by binary search.
            let marks = yamlErrors.map(\.mark).sorted()
            for i in declared.indices {
                let document = documentOf[i]
                let start = starts[document]
                let next = document + 1 < starts.count ? starts[document + 1] : nil
                var low = 0, high = marks.count  // first mark >= start
                while low < high {
                    let mid = (low + high) / 2
                    if marks[mid] < start { low = mid + 1 } else { high = mid }
                }
                if low < marks.count, next.map({ marks[low] < $0 }) ?? true {
                    declared[i].spec = nil
                }
            }
        }
        var services: [ServiceSpec] = []
        services.reserveCapacity(declared.count)
        // Revisions are computed once here, so every later plan of this file (watch plans
        // the same desired state again and again; git loads reuse the parse by blob id)
        // finds them ready.
        for i in declared.indices { declared[i].spec?.memoizeRevision() }
        for d in declared { if let spec = d.spec { services.append(spec) } }
        return FileManifests(
            path: file.path, services: services, diagnostics: diagnostics.sorted(), declared: declared)
    }

    public static func assemble(_ files: [FileManifests], commit: String? = nil) -> DesiredState {
        var diagnostics = files.flatMap(\.diagnostics)
        let declared = files.flatMap { file in
            file.declared.isEmpty ? file.services.map { DeclaredService(spec: $0, file: file.path) } : file.declared
        }
        var held: Set<String> = []  // names left out of the desired state
        func error(_ at: SourceRef, _ path: String, _ message: String) {
            diagnostics.append(Diagnostic(.error, file: at.file, line: at.line, column: at.column, path: path, message: message))
        }

        // Duplicate names: an error at each place, naming the others.
        var byName: [String: [DeclaredService]] = [:]
        for d in declared { byName[d.name, default: []].append(d) }
        for (name, list) in byName where list.count > 1 {
            held.insert(name)
            for d in list {
                let others = list.filter { $0.source != d.source }.map(\.source).sorted().map(\.description)
                error(d.source, "metadata.name", "service \"\(name)\" is also defined at \(others.joined(separator: ", "))")
            }
        }
        for d in declared where d.spec == nil { held.insert(d.name) }

        // dependsOn naming no service.
        let known = byName.keys.sorted()
        for d in declared {
            for dep in d.dependsOn where byName[dep.name] == nil {
                var message = "unknown service \"\(dep.name)\""
                if let close = Suggestion.closest(to: dep.name, among: known) {
                    message += "; did you mean \"\(close)\"?"
                } else {
                    message += ": no manifest defines it"
                }
                error(dep.source, dep.path, message)
                held.insert(d.name)
            }
        }

        // Cycles, each reported once at the first edge of its spelling.
        var edges: [String: [String]] = [:]
        for d in declared { edges[d.name, default: []] += d.dependsOn.map(\.name) }
        for cycle in DependencyGraph(edges as [String: [String]]).cycles() {
            held.formUnion(cycle)
            let from = cycle[0], to = cycle[1]
            let edge = declared.lazy.filter { $0.name == from }.flatMap(\.dependsOn).first { $0.name == to }
            let at = edge?.source ?? byName[from]![0].source
            error(at, edge?.path ?? "spec.dependsOn", "dependency cycle: \(cycle.joined(separator: " → ")); remove one of these dependsOn entries")
        }

        // A host port published by two services.
        var publishers: [Int: [(service: String, place: DeclaredService.Published)]] = [:]
        for d in declared { for p in d.published { publishers[p.port, default: []].append((d.name, p)) } }
        for (port, list) in publishers where Set(list.map(\.service)).count > 1 {
            for entry in list {
                held.insert(entry.service)
                let others = list.filter { $0.service != entry.service }
                    .sorted { $0.place.source < $1.place.source }
                    .map { "service \"\($0.service)\" at \($0.place.source.description)" }
                error(entry.place.source, entry.place.path, "host port \(port) is also published by \(others.joined(separator: ", "))")
            }
        }

        // Hold back whatever depends on a held-back service, until nothing changes.
        let inOrder = declared.sorted { $0.source < $1.source }
        var changed = true
        while changed {
            changed = false
            for d in inOrder where !held.contains(d.name) {
                if let dep = d.dependsOn.first(where: { held.contains($0.name) }) {
                    held.insert(d.name)
                    changed = true
                    diagnostics.append(
                        Diagnostic(
                            .warning, file: dep.source.file, line: dep.source.line, column: dep.source.column,
                            path: dep.path,
                            message: "service \"\(d.name)\" is held back: it depends on \"\(dep.name)\", which has errors"))
                }
            }
        }

        var services: [String: ServiceSpec] = [:]
        for d in declared where !held.contains(d.name) {
            if let spec = d.spec { services[d.name] = spec }
        }
        return DesiredState(services: services, diagnostics: diagnostics.sorted(), commit: commit)
    }

    public static func load(_ files: [ManifestFile], commit: String? = nil) -> DesiredState {
        assemble(files.map(parse), commit: commit)
    }
}
