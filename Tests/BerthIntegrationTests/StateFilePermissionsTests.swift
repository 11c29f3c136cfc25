import BerthTestSupport
import Foundation
import Testing

/// What Berth keeps on disk is its user's alone (issue 18, finding 8: the state folder was
/// 0755, `journal.sqlite` 0644, the mirror's packs 0444, `proxy-<project>.json` 0644). A real
/// watch of a remote (file://, so it is mirrored) with a published port (so it starts its
/// proxy), over folders and a journal left world-readable by an older Berth.
@Suite(.serialized) struct StateFilePermissionsTests {
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    /// Every file and folder below `root` whose mode lets group or others in, as `path mode`.
    static func open(below root: String) -> [String] {
        var out: [String] = []
        if let m = mode(root), m & 0o077 != 0 { out.append("\(root) \(String(m, radix: 8))") }
        let walker = FileManager.default.enumerator(atPath: root)
        while let rel = walker?.nextObject() as? String {
            let path = root + "/" + rel
            if let m = mode(path), m & 0o077 != 0 { out.append("\(rel) \(String(m, radix: 8))") }
        }
        return out.sorted()
    }

    @Test func stateFoldersJournalMirrorAndProxyFilesArePrivate() throws {
        let h = try WatchHarness()
        let cache = try TemporaryDirectory(prefix: "berth-cache-test")
        defer {
            h.terminate()
            stopProxiesOf(h)
            h.stop()
            cache.remove()
        }
        let publish = try freeHostPort()
        try h.commit(["manifests/customer.yaml": zeroDowntimeManifest(image: "shop/customer:1.0", replicas: 1, publish: publish)], "customer")
        // Left by an older Berth: world-readable folders and journal.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: h.state.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: cache.path)
        FileManager.default.createFile(atPath: h.state.path + "/journal.sqlite", contents: nil, attributes: [.posixPermissions: 0o644])

        try h.start(
            extraArguments: ["--repo", "file://" + h.repo.path, "--proxy-bind", "127.0.0.1"],
            environment: ["BERTH_CACHE_DIR": cache.path])
        try #require(eventually(within: 40) { logPIDs(h, "berth proxy started").count == 1 }, "\(h.log())")
        try #require(eventually(within: 30) { h.healthyServices() == ["customer"] }, "\(h.log())")

        #expect(Self.mode(h.state.path) == 0o700)
        #expect(Self.mode(h.state.path + "/journal.sqlite") == 0o600)
        #expect(Self.mode(h.state.path + "/journal.sqlite-wal") == 0o600)
        #expect(Self.mode(h.state.path + "/proxy-\(h.project).json") == 0o600)
        #expect(Self.open(below: h.state.path).filter { !$0.hasPrefix("watch.log") } == [])
        #expect(Self.mode(cache.path) == 0o700)
        let packs = (FileManager.default.enumerator(atPath: cache.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".pack") }
        #expect(!packs.isEmpty, "no mirror under \(cache.path)")
        #expect(Self.open(below: cache.path) == [])
    }
}
