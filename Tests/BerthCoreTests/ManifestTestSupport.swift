import BerthCore

/// Parses one file's text as `path`.
func parseManifest(_ text: String, path: String = "m.yaml") -> FileManifests {
    ManifestLoader.parse(ManifestFile(path: path, bytes: Array(text.utf8)))
}

/// Every diagnostic of one file (and the checks across files), rendered.
func problems(_ text: String, path: String = "m.yaml") -> [String] {
    ManifestLoader.load([ManifestFile(path: path, bytes: Array(text.utf8))]).diagnostics.map(\.rendered)
}

/// Loads several files, given as (path, text), in that order.
func loadManifests(_ files: [(String, String)]) -> DesiredState {
    ManifestLoader.load(files.map { ManifestFile(path: $0.0, bytes: Array($0.1.utf8)) })
}

/// A valid service document with `spec` lines appended (each indented under spec).
func service(_ name: String = "booking", image: String = "shop/booking:1.0", _ specLines: String = "") -> String {
    var text = """
        apiVersion: berth/v1
        kind: Service
        metadata:
          name: \(name)
        spec:
          image: \(image)

        """
    for line in specLines.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
        text += "  \(line)\n"
    }
    return text
}
