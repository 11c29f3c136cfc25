import BerthYAML

extension ManifestLoader {
    /// `files.map(parse)` on `work`'s threads, with the same result: the files side by side,
    /// and a file much larger than its share cut at document starts (`YAML.parts(of:size:)`)
    /// into parts parsed side by side too. libyaml reads one stream on one thread; a
    /// repository of many manifests, or one large file, keeps every core busy this way.
    ///
    /// A part is independent of the others (anchors, directives and places never cross a
    /// document start), and its places are counted in the whole file's lines. A file with a
    /// YAML error in any part is parsed again whole, so errors read exactly as they do
    /// without parts.
    public static func parse(_ files: [ManifestFile], on work: some ParallelWork) -> [FileManifests] {
        let total = files.reduce(0) { $0 + $1.bytes.count }
        // Parts of at least 1 MiB (libyaml's start-up per part is then nothing), and small
        // enough that no worker waits long for the last one.
        return parse(files, on: work, partSize: max(1 << 20, total / (max(work.workers, 1) * 8)))
    }

    /// `parse(_:on:)` with parts of about `partSize` bytes (tests use small ones).
    package static func parse(_ files: [ManifestFile], on work: some ParallelWork, partSize size: Int) -> [FileManifests] {
        guard work.workers > 1, !files.isEmpty else { return files.map { parse($0) } }
        var units: [(file: Int, part: YAML.Part?)] = []
        for (i, file) in files.enumerated() {
            if file.bytes.count > 2 * size {
                units += YAML.parts(of: file.bytes, size: size).map { (i, $0) }
            } else {
                units.append((i, nil))
            }
        }
        let unitList = units
        let parsed = work.map(units.count) { k in parse(files[unitList[k].file], part: unitList[k].part) }
        // Units are in file order, a file's parts in line order.
        var out: [FileManifests] = []
        out.reserveCapacity(files.count)
        var k = 0
        while k < units.count {
            let file = units[k].file
            var end = k + 1
            while end < units.count, units[end].file == file { end += 1 }
            if end == k + 1 {
                out.append(parsed[k].manifests)
            } else if parsed[k..<end].contains(where: { $0.yamlErrors }) {
                out.append(parse(files[file]))
            } else {
                var diagnostics: [Diagnostic] = []
                var declared: [DeclaredService] = []
                for part in parsed[k..<end] {
                    diagnostics += part.manifests.diagnostics
                    declared += part.manifests.declared
                }
                out.append(FileManifests(path: files[file].path, diagnostics: diagnostics, declared: declared))
            }
            k = end
        }
        return out
    }

    /// `load` on `work`'s threads (see `parse(_:on:)`).
    public static func load(_ files: [ManifestFile], commit: String? = nil, on work: some ParallelWork) -> DesiredState {
        assemble(parse(files, on: work), commit: commit)
    }
}
