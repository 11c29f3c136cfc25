import Foundation
import Testing
import BerthYAML
@testable import BerthCore
import BerthEngine

/// Parsing on several threads, with large files cut at document starts, gives exactly the
/// answer of parsing each file whole on one thread: the same services, places, revisions
/// and diagnostics, errors included.
@Suite struct ManifestParallelParseTests {
    /// `count` valid documents, each a little different (one with an anchor and a merge key).
    static func documents(_ count: Int, from first: Int = 0) -> String {
        (first..<(first + count)).map { i in
            """
            apiVersion: berth/v1
            kind: Service
            metadata: {name: svc-\(i), labels: {team: t\(i % 3)}}
            spec:
              image: shop/svc:\(i)
              replicas: \(i % 5)
              env:
                <<: &common {LOG: info, INDEX: "\(i)"}
                LS: "a\u{2028}b"
              ports: [{containerPort: 8080, publish: \(20000 + i)}]
              dependsOn: [svc-\(max(0, i - 1))]
              health: {http: {path: /healthz, port: 8080}, interval: 2s}

            """
        }.joined(separator: "---\n")
    }

    /// Both ways, compared down to places, revisions and rendered diagnostics.
    func expectSame(_ files: [ManifestFile], partSize: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let whole = files.map { ManifestLoader.parse($0) }
        let parts = ManifestLoader.parse(files, on: ThreadedWork(workers: 3), partSize: partSize)
        #expect(parts == whole, sourceLocation: sourceLocation)
        #expect(parts.map { $0.diagnostics.map(\.rendered) } == whole.map { $0.diagnostics.map(\.rendered) }, sourceLocation: sourceLocation)
        #expect(parts.map { $0.declared.map(\.source) } == whole.map { $0.declared.map(\.source) }, sourceLocation: sourceLocation)
        #expect(parts.map { $0.declared.map(\.dependsOn) } == whole.map { $0.declared.map(\.dependsOn) }, sourceLocation: sourceLocation)
        #expect(parts.map { $0.declared.map(\.published) } == whole.map { $0.declared.map(\.published) }, sourceLocation: sourceLocation)
        #expect(parts.map { $0.services.map(\.cachedRevision) } == whole.map { $0.services.map(\.cachedRevision) }, sourceLocation: sourceLocation)
    }

    @Test func threadedWorkGivesEveryResultAtItsIndex() {
        let expected = (0..<1_000).map { $0 * 3 }
        #expect(ThreadedWork(workers: 4).map(1_000) { $0 * 3 } == expected)
        #expect(ThreadedWork(workers: 1).map(1_000) { $0 * 3 } == expected)
        #expect(ThreadedWork(workers: 0).workers == 1)
        #expect(ThreadedWork(workers: 4).map(0) { $0 } == [])
    }

    @Test func aLargeFileInPartsAndManySmallFiles() {
        let big = ManifestFile(path: "all.yaml", bytes: Array(Self.documents(300).utf8))
        #expect(YAML.parts(of: big.bytes, size: 4096).count > 20)
        let small = (0..<40).map { ManifestFile(path: "m/\($0).yaml", bytes: Array(Self.documents(1, from: 1000 + $0).utf8)) }
        expectSame([big] + small, partSize: 4096)
        let parsed = ManifestLoader.parse([big], on: ThreadedWork(workers: 3), partSize: 4096)
        #expect(parsed[0].services.count == 300)
        #expect(parsed[0].diagnostics == [])
    }

    @Test func crlfByteOrderMarkDirectivesAndDocumentEnds() {
        // Every other document after an end marker and a directive.
        var text = "\u{FEFF}%YAML 1.1\n---\n"
        for i in 0..<60 { text += (i == 0 ? "" : i % 2 == 0 ? "...\n%YAML 1.1\n---\n" : "---\n") + Self.documents(1, from: i) }
        expectSame([ManifestFile(path: "a.yaml", bytes: Array(text.utf8))], partSize: 2048)
        let crlf = Self.documents(60).replacingOccurrences(of: "\n", with: "\r\n")
        expectSame([ManifestFile(path: "b.yaml", bytes: Array(crlf.utf8))], partSize: 2048)
        #expect(YAML.parts(of: Array(crlf.utf8), size: 2048).count > 5)
        // A part never starts at a `---` that follows a directive: the directive belongs to
        // that document. (A line starting with % might be a scalar's line, not a directive,
        // so no part starts at one either.)
        let bytes = Array(text.utf8)
        let parts = YAML.parts(of: bytes, size: 2048)
        #expect(parts.count > 5)
        for part in parts.dropFirst() {
            #expect(Array(bytes[part.range.prefix(3)]) == Array("---".utf8))
            let before = String(decoding: bytes[..<part.range.lowerBound], as: UTF8.self)
            #expect(!before.hasSuffix("%YAML 1.1\n"))
        }
    }

    @Test func errorsInAnyPartReadAsInTheWholeFile() {
        let docs = Self.documents(80)
        let broken = [
            docs.replacingOccurrences(of: "replicas: 3\n", with: "replicas: [3\n"),  // a flow sequence left open across ---
            docs.replacingOccurrences(of: "image: shop/svc:70", with: "image: \"shop/svc:70"),  // a quote left open
            docs.replacingOccurrences(of: "LOG: info, INDEX: \"50\"", with: "LOG: info, LOG: x"),  // a duplicate key
            docs.replacingOccurrences(of: "replicas: 4\n", with: "replicas: four\n"),  // decoding errors only
            docs + "a: b\n- c\n",  // a parser error at the end
        ]
        for (i, text) in broken.enumerated() {
            let file = ManifestFile(path: "e\(i).yaml", bytes: Array(text.utf8))
            #expect(!ManifestLoader.parse(file).diagnostics.isEmpty, "\(i)")
            #expect(YAML.parts(of: file.bytes, size: 2048).count > 5, "\(i)")
            expectSame([file], partSize: 2048)
        }
        // Invalid UTF-8, and UTF-16, which is never cut.
        var bad = Array(docs.utf8)
        bad[bad.count / 2] = 0xFF
        expectSame([ManifestFile(path: "u.yaml", bytes: bad)], partSize: 2048)
        var utf16: [UInt8] = [0xFF, 0xFE]
        for unit in Self.documents(30).utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        #expect(YAML.parts(of: utf16, size: 1024).count == 1)
        expectSame([ManifestFile(path: "w.yaml", bytes: utf16)], partSize: 1024)
    }
}
