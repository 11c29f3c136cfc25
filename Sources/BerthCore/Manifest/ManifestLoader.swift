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
    public var services: [ServiceSpec]
    public var diagnostics: [Diagnostic]
    public init(path: String, services: [ServiceSpec] = [], diagnostics: [Diagnostic] = []) {
        self.path = path
        self.services = services
        self.diagnostics = diagnostics
    }
}

/// Manifests → desired state. `parse` works on one file (YAML, decoding, per-object checks);
/// `assemble` adds the checks across files (duplicate names, unknown `dependsOn`, cycles).
public enum ManifestLoader {
    public static func parse(_ file: ManifestFile) -> FileManifests {
        fatalError("ManifestLoader.parse not implemented yet")
    }

    public static func assemble(_ files: [FileManifests], commit: String? = nil) -> DesiredState {
        fatalError("ManifestLoader.assemble not implemented yet")
    }

    public static func load(_ files: [ManifestFile], commit: String? = nil) -> DesiredState {
        assemble(files.map(parse), commit: commit)
    }
}
