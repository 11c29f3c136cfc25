import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// Issue 16, volumes through `berth apply`: data revision 1 wrote in a named volume is read
/// by revision 2 after a rolling update, and deleting the service (prune) leaves the volume
/// and its data.
@Suite(.serialized) struct VolumeApplyTests {
    static func manifest(image: String) -> String {
        """
        apiVersion: berth/v1
        kind: Service
        metadata: {name: notes}
        spec:
          image: \(image)
          replicas: 1
          volumes:
            - {name: data, mountPath: /data}
          health:
            http: {path: /healthz, port: 8080}
            interval: 200ms
          stopGracePeriod: 1s

        """
    }

    @Test func dataWrittenByOneRevisionIsReadByTheNextAndOutlivesTheService() async throws {
        let shop = try await Shop("vol")
        defer { shop.cleanup() }
        try shop.repo.write("manifests/notes.yaml", Self.manifest(image: "shop/customer:1.0"))
        try shop.repo.write("manifests/keep.yaml", GitRepoBuilder.service("keep", image: "shop/customer:1.0", replicas: 1))
        try shop.commit("notes 1.0 with a volume")
        let first = try shop.apply()
        try #require(first.status == 0, "\(first.stderr)")
        let volume = "\(shop.project)_data"
        let v1 = try #require(try await shop.containers("notes").first)
        let wrote = try await shop.runtime.client.exec(v1.Id, ["/bin/busybox", "sh", "-c", "echo written by 1.0 > /data/note"])
        #expect(wrote.exitCode == 0, "\(wrote.stderr)")
        let labels = try docker(["volume", "inspect", "--format", "{{json .Labels}}", volume]).stdout
        #expect(labels.contains("\"berth.project\":\"\(shop.project)\"") && labels.contains("\"berth.volume\":\"data\""), "\(labels)")

        // A rolling update to 1.1: a new container on the same volume reads what 1.0 wrote.
        try shop.repo.write("manifests/notes.yaml", Self.manifest(image: "shop/customer:1.1"))
        try shop.commit("notes 1.1")
        let second = try shop.apply()
        try #require(second.status == 0, "\(second.stderr)")
        let v2 = try #require(try await shop.containers("notes").first)
        #expect(v2.Id != v1.Id && v2.Image == "shop/customer:1.1")
        let read = try await shop.runtime.client.exec(v2.Id, ["/bin/busybox", "cat", "/data/note"])
        #expect(read.stdout == "written by 1.0\n")

        // The service goes from git and is pruned: its volume, and the data, stay.
        try shop.repo.remove("manifests/notes.yaml")
        try shop.commit("no more notes")
        let third = try shop.apply(["--prune"])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try await shop.containers("notes").isEmpty)
        #expect(try docker(["volume", "inspect", "--format", "{{.Name}}", volume]).stdout == "\(volume)\n")
    }
}
