import Testing
import Foundation
import BerthCore
@testable import BerthEngine
import BerthGit
import BerthTestSupport

/// `berth history SERVICE` skips parsing a blob when a byte search shows it cannot declare
/// the service; these are the ways a name can be written without its bytes in a row.
@Suite struct HistoryPrefilterTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func byteSearchOnlyWhereItIsSound() {
        let web = bytes("web")
        #expect(GitDesiredStateSource.mayDeclare(bytes("metadata:\n  name: web\n"), web))
        #expect(!GitDesiredStateSource.mayDeclare(bytes("metadata:\n  name: api\n"), web))
        #expect(!GitDesiredStateSource.mayDeclare(bytes("name: \"we\n  b\"\n"), web))  // folds to "we b"
        // An escape needs a backslash: parsed.
        #expect(GitDesiredStateSource.mayDeclare(bytes("name: \"w\\x65b\"\n"), web))
        // Anything outside printable ASCII: parsed (a BOM, UTF-16, a NUL, UTF-8 text).
        #expect(GitDesiredStateSource.mayDeclare([0xEF, 0xBB, 0xBF] + bytes("name: api\n"), web))
        #expect(GitDesiredStateSource.mayDeclare([0xFF, 0xFE, 0x6E, 0x00], web))
        #expect(GitDesiredStateSource.mayDeclare(bytes("name: api\u{0}\n"), web))
        #expect(GitDesiredStateSource.mayDeclare(bytes("name: caf\u{E9}\n"), web))
        // U+212A KELVIN SIGN equals "K" as a Swift string, though its bytes differ.
        #expect("\u{212A}ube" == "Kube")
        #expect(GitDesiredStateSource.mayDeclare(bytes("name: \u{212A}ube\n"), bytes("Kube")))
        // Names a byte search cannot find: every blob is parsed.
        #expect(GitDesiredStateSource.mayDeclare(bytes("name: x\n"), bytes("it's")))
        #expect(GitDesiredStateSource.mayDeclare(bytes("name: x\n"), bytes("a b")))
        #expect(GitDesiredStateSource.mayDeclare(bytes("name: x\n"), bytes("caf\u{E9}")))
        #expect(GitDesiredStateSource.mayDeclare(bytes("name: x\n"), []))
        // Tabs and CRLF line ends are plain text.
        #expect(!GitDesiredStateSource.mayDeclare(bytes("metadata:\r\n\tname: api\r\n"), web))
    }

    @Test func serviceWrittenWithEscapesAnAliasOrABlockScalarIsFollowed() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        func manifest(name: String, image: String, labels: String = "") -> String {
            "apiVersion: berth/v1\nkind: Service\nmetadata:\n\(labels)  name: \(name)\nspec:\n  image: \(image)\n"
        }
        try b.write("manifests/a.yaml", manifest(name: "\"w\\x65b\"", image: "shop/web:1"))
        try b.write("manifests/other.yaml", manifest(name: "api", image: "shop/api:1"))
        let c1 = try b.commit("Add web (escaped) and api")
        try b.write("manifests/a.yaml", manifest(name: "\"\\u0077eb\"", image: "shop/web:2"))
        let c2 = try b.commit("Web 2, another escape")
        try b.move("manifests/a.yaml", "manifests/b.yaml")
        try b.write("manifests/b.yaml", manifest(name: "*n", image: "shop/web:3", labels: "  labels: {app: &n web}\n"))
        let c3 = try b.commit("Web 3 through an alias, moved")
        try b.write("manifests/other.yaml", manifest(name: "api", image: "shop/api:2"))
        try b.commit("Api 2")
        try b.move("manifests/b.yaml", "manifests/c.yaml")
        try b.write("manifests/c.yaml", manifest(name: "|-\n    web", image: "shop/web:4"))
        let c5 = try b.commit("Web 4 in a block scalar, moved")
        try b.remove("manifests/c.yaml")
        let c6 = try b.commit("Remove web")
        let src = GitDesiredStateSource(repository: try GitRepository(path: b.path))
        let head = try #require(ObjectID(hex: c6))
        let web = try await src.history(from: head, path: "manifests", service: "web")
        #expect(web.map(\.commit.id.hex) == [c6, c5, c3, c2, c1])
        #expect(web.map { $0.changes.map(\.kind) } == [[.removed], [.changed], [.changed], [.changed], [.added]])
        #expect(web[1].changes[0].fields == [
            FieldChange(path: "metadata.labels.app", from: .string("web"), to: .null),
            FieldChange(path: "spec.image", from: .string("shop/web:3"), to: .string("shop/web:4")),
        ])
        #expect(web.allSatisfy { $0.diagnostics.isEmpty })
    }
}
