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
    public var diagnostics: [Diagnostic]
    /// Every object that names a service, valid or not, with the places the checks across
    /// files point at.
    public var declared: [DeclaredService]
    /// The services of this file that have no problem of their own: the specs of `declared`
    /// (kept once, there).
    public var services: [ServiceSpec] { declared.compactMap(\.spec) }

    /// `services` alone (built by hand) are declared at their `source`, or at the file's
    /// first line; given `declared` wins.
    public init(
        path: String, services: [ServiceSpec] = [], diagnostics: [Diagnostic] = [],
        declared: [DeclaredService] = []
    ) {
        self.path = path
        self.diagnostics = diagnostics
        self.declared = declared.isEmpty ? services.map { DeclaredService(spec: $0, file: path) } : declared
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
    public static func parse(_ file: ManifestFile) -> FileManifests { parse(file, part: nil).manifests }

    /// `parse` of one part of a file (`YAML.parts(of:size:)`), or of all of it; and whether
    /// YAML itself found an error there.
    static func parse(_ file: ManifestFile, part: YAML.Part?) -> (manifests: FileManifests, yamlErrors: Bool) {
        var diagnostics: [Diagnostic] = []
        var declared: [DeclaredService] = []
        var documentOf: [Int] = []  // per declared service, its document's index in `starts`
        var starts: [Mark] = []
        var decoder: ServiceDecoder?
        var anyRoot = false
        let yamlErrors = YAML.parseFlatDocuments(file.bytes, part: part) { document in
            starts.append(document.start)
            guard let root = document.root else { return }
            anyRoot = true
            if decoder == nil { decoder = ServiceDecoder(file: file.path, document: document) } else { decoder!.reset(document) }
            if let service = decoder!.decode(root) {
                declared.append(service)
                documentOf.append(starts.count - 1)
            }
            if !decoder!.r.diagnostics.isEmpty { diagnostics += decoder!.r.diagnostics }
            decoder!.r.releaseDocument()
        }
        // A file that declares nothing is a leftover or a mistake, worth a line (not an
        // error: an emptied file changes nothing). Parts are of large files, never empty.
        if part == nil, !anyRoot, yamlErrors.isEmpty {
            diagnostics.append(Diagnostic(
                .warning, file: file.path, line: 1, column: 1, path: "",
                message: "the file declares nothing (it is empty, or holds only comments); add a Service to it, or delete it"))
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
        // Revisions are computed once here, so every later plan of this file (watch plans
        // the same desired state again and again; git loads reuse the parse by blob id)
        // finds them ready.
        for i in declared.indices { declared[i].spec?.memoizeRevision() }
        return (FileManifests(path: file.path, diagnostics: diagnostics.sorted(), declared: declared), !yamlErrors.isEmpty)
    }

    public static func assemble(_ files: [FileManifests], commit: String? = nil) -> DesiredState {
        assemble(files, commit: commit, suggestionBudget: 2_000_000)
    }

    /// `assemble` with the budget of "did you mean" comparisons for unknown `dependsOn`
    /// names (see `Suggestion.closest(to:among:budget:)`; tests set a small one).
    static func assemble(_ files: [FileManifests], commit: String?, suggestionBudget budget: Int) -> DesiredState {
        var diagnostics = files.flatMap(\.diagnostics)
        // Every declaration, read in place through its (file, index): nothing below copies
        // a service, so the checks cost little time and memory beside the parse.
        let all = Declarations(files)
        let count = all.count
        var held: Set<String> = []  // names left out of the desired state
        func error(_ at: SourceRef, _ path: String, _ message: String) {
            diagnostics.append(Diagnostic(.error, file: at.file, line: at.line, column: at.column, path: path, message: message))
        }

        // Each name's first declaration; the names declared more than once, with all of theirs.
        var first: [String: Int] = [:]
        first.reserveCapacity(count)
        var repeated: [String: [Int]] = [:]
        for k in 0..<count {
            let name = all[k].name
            if let j = first[name] {
                repeated[name, default: [j]].append(k)
            } else {
                first[name] = k
            }
        }

        // Duplicate names: an error at each place, naming the others.
        for (name, list) in repeated {
            held.insert(name)
            for k in list {
                let source = all[k].source
                let others = list.lazy.map { all[$0].source }.filter { $0 != source }.sorted().map(\.description)
                error(source, "metadata.name", "service \"\(name)\" is also defined at \(others.joined(separator: ", "))")
            }
        }
        for k in 0..<count where all[k].spec == nil { held.insert(all[k].name) }

        // dependsOn naming no service. Suggestions are looked up once per unknown name and
        // within a budget (see `Suggestion.closest`), so a refactoring that leaves thousands
        // of dangling names in a large repository is reported in well under a second.
        var candidates: Suggestion.Candidates?  // the names, sorted, once one is needed
        var suggestionBudget = budget
        var suggested: [String: Suggestion.Lookup] = [:]
        var edgeCount = 0
        for k in 0..<count {
            edgeCount += all[k].dependsOn.count
            for dep in all[k].dependsOn where first[dep.name] == nil {
                var message = "unknown service \(FieldReader.quoted(dep.name))"
                let lookup: Suggestion.Lookup
                if let memo = suggested[dep.name] {
                    lookup = memo
                } else {
                    if candidates == nil { candidates = Suggestion.Candidates(first.keys.sorted()) }
                    lookup = candidates!.lookup(dep.name, budget: &suggestionBudget)
                    suggested[dep.name] = lookup
                }
                switch lookup {
                case .found(let close): message += "; did you mean \"\(close)\"?"
                case .none: message += ": no manifest defines it"
                case .overBudget: message += ": no manifest defines it (too many unknown services to look for a close name)"
                }
                error(dep.source, dep.path, message)
                held.insert(all[k].name)
            }
        }

        // Cycles, each reported once at the first edge of its spelling. A name declared more
        // than once depends on what any of its declarations names.
        if edgeCount > 0 {
            let pairs = first.map { name, k in
                (name, (repeated[name] ?? [k]).flatMap { all[$0].dependsOn.map(\.name) })
            }
            for cycle in DependencyGraph(pairs: pairs).cycles() {
                held.formUnion(cycle)
                let from = cycle[0], to = cycle[1]
                let declarations = repeated[from] ?? [first[from]!]
                let edge = declarations.lazy.flatMap { all[$0].dependsOn }.first { $0.name == to }
                let at = edge?.source ?? all[declarations[0]].source
                error(at, edge?.path ?? "spec.dependsOn", "dependency cycle: \(cycle.joined(separator: " → ")); remove one of these dependsOn entries")
            }
        }

        // A host port published by two services.
        var publishers: [Int: [(service: String, place: DeclaredService.Published)]] = [:]
        for k in 0..<count {
            for p in all[k].published { publishers[p.port, default: []].append((all[k].name, p)) }
        }
        for (port, list) in publishers where list.count > 1 && Set(list.map(\.service)).count > 1 {
            for entry in list {
                held.insert(entry.service)
                let others = list.filter { $0.service != entry.service }
                    .sorted { $0.place.source < $1.place.source }
                    .map { "service \"\($0.service)\" at \($0.place.source.description)" }
                error(entry.place.source, entry.place.path, "host port \(port) is also published by \(others.joined(separator: ", "))")
            }
        }

        // Hold back whatever depends on a held-back service: the closure over dependents,
        // found breadth-first from the services with errors (linear in services and edges).
        // Each names the first of its dependencies one step closer to the errors, so
        // following the warnings always ends at a service with errors of its own, and the
        // names do not depend on the order of the files.
        let withErrors = held
        var dependents: [String: [Int]] = [:]
        if !withErrors.isEmpty {
            for k in 0..<count {
                for dep in all[k].dependsOn where !withErrors.contains(all[k].name) {
                    dependents[dep.name, default: []].append(k)
                }
            }
        }
        var steps: [String: Int] = [:]  // held-back name → its distance from the errors
        var heldAfter: [Int] = []
        var frontier = withErrors.sorted()
        var distance = 0
        while !frontier.isEmpty {
            distance += 1
            var next: [String] = []
            for name in frontier {
                for k in dependents[name] ?? [] where !held.contains(all[k].name) {
                    held.insert(all[k].name)
                    steps[all[k].name] = distance
                    next.append(all[k].name)
                    heldAfter.append(k)
                }
            }
            frontier = next
        }
        for k in heldAfter {
            let d = all[k]
            let distance = steps[d.name]!
            let dep = d.dependsOn.first {
                distance == 1 ? withErrors.contains($0.name) : steps[$0.name] == distance - 1
            }!
            let why = distance == 1 ? "which has errors" : "which is held back"
            diagnostics.append(
                Diagnostic(
                    .warning, file: dep.source.file, line: dep.source.line, column: dep.source.column,
                    path: dep.path,
                    message: "service \"\(d.name)\" is held back: it depends on \"\(dep.name)\", \(why)"))
        }

        var services: [String: ServiceSpec] = [:]
        services.reserveCapacity(count - held.count)
        for k in 0..<count where !held.contains(all[k].name) {
            if let spec = all[k].spec { services[all[k].name] = spec }
        }
        return DesiredState(services: services, diagnostics: diagnostics.sorted(), commit: commit)
    }

    /// The declarations of several files as one collection, read in place.
    private struct Declarations {
        let files: [FileManifests]
        let places: [(file: Int32, index: Int32)]

        init(_ files: [FileManifests]) {
            self.files = files
            var places: [(file: Int32, index: Int32)] = []
            places.reserveCapacity(files.reduce(0) { $0 + $1.declared.count })
            for f in files.indices {
                for i in files[f].declared.indices { places.append((Int32(f), Int32(i))) }
            }
            self.places = places
        }

        var count: Int { places.count }

        subscript(k: Int) -> DeclaredService {
            _read { yield files[Int(places[k].file)].declared[Int(places[k].index)] }
        }
    }

    public static func load(_ files: [ManifestFile], commit: String? = nil) -> DesiredState {
        assemble(files.map(parse), commit: commit)
    }
}
