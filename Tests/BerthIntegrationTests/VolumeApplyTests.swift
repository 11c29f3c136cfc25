import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// Issue 16, volumes through `berth apply`: data revision 1 wrote in a named volume is read
/// by revision 2 after a rolling update, deleting the service (prune) leaves the volume and
/// its data, and only `--delete-volume NAME`, confirmed, deletes it.
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
        // A volume a service of the desired state mounts cannot be deleted.
        let inUse = try shop.apply(["--delete-volume", "data"])
        #expect(inUse.status == 1)
        #expect(inUse.stderr.contains(
            "error: --delete-volume data: service notes of the desired state mounts it; remove it from their volumes and commit first; nothing was changed"), "\(inUse.stderr)")

        // The service goes from git and is pruned: its volume, and the data, stay.
        try shop.repo.remove("manifests/notes.yaml")
        try shop.commit("no more notes")
        let third = try shop.apply(["--prune"])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try await shop.containers("notes").isEmpty)
        #expect(try docker(["volume", "inspect", "--format", "{{.Name}}", volume]).stdout == "\(volume)\n")
        #expect(third.stderr.contains(
            "note: volume data of project \(shop.project) no service uses any more: kept with its data; `berth apply --delete-volume NAME` deletes one"), "\(third.stderr)")

        // --delete-volume: an unknown name is refused; with no terminal to confirm on, nothing
        // is deleted; confirmed (--auto-approve), the volume and its data go.
        let unknown = try shop.apply(["--delete-volume", "nope"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("error: --delete-volume nope: project \(shop.project) has no volume nope (its volumes: data); nothing was changed"), "\(unknown.stderr)")
        let unconfirmed = try shop.berth("apply", ["--delete-volume", "data"])
        #expect(unconfirmed.status == 1)
        #expect(unconfirmed.stdout.contains("- volume data (\(volume)): deleted with all its data (--delete-volume)\n"), "\(unconfirmed.stdout)")
        #expect(unconfirmed.stderr.contains("there is no terminal to ask on"), "\(unconfirmed.stderr)")
        #expect(try docker(["volume", "inspect", "--format", "{{.Name}}", volume]).stdout == "\(volume)\n")
        let deleted = try shop.apply(["--delete-volume", "data"])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(deleted.stderr.contains("volume data deleted\n"), "\(deleted.stderr)")
        #expect(try docker(["volume", "ls", "-q", "--filter", "name=^\(volume)$"]).stdout == "")
    }
}
