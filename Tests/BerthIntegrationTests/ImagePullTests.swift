import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// Pulls from a real registry on loopback (Debian's docker-registry), with and without
/// basic auth: progress, the registry's own errors, credentials never shown, digests.
@Suite("Image pulls from a loopback registry", .serialized)
struct ImagePullTests {
    /// Removes `references` from the engine (pulled images), ignoring those not there.
    func removeImages(_ references: [String]) {
        for r in references { _ = try? docker(["rmi", "-f", r]) }
    }

    @Test func pullsWithProgressAndRecordsTheDigestActuallyRun() async throws {
        let registry = try LoopbackRegistry()
        defer { registry.stop() }
        let (reference, digest) = try registry.push("shop/customer:1.0", as: "shop/customer", tag: "1.0")
        defer { removeImages([reference, "\(registry.host)/shop/customer@\(digest)"]) }
        removeImages([reference])
        let runtime = try await DockerRuntime.connect()
        let lines = Lines()
        let got = try await runtime.prepareImage(
            ServiceSpec(name: "customer", image: reference), always: false, progress: { lines.add($0) })
        #expect(got == "\(registry.host)/shop/customer@\(digest)")
        #expect(lines.all.contains("Digest: \(digest)"))
        #expect(lines.all.last == "Status: Downloaded newer image for \(reference)")
        // Present now: IfNotPresent does not ask the registry again.
        let again = Lines()
        #expect(try await runtime.prepareImage(ServiceSpec(name: "customer", image: reference), always: false) { again.add($0) } == got)
        #expect(again.all == [])
        // Always asks, and the registry says it is up to date.
        #expect(try await runtime.prepareImage(ServiceSpec(name: "customer", image: reference), always: true) { again.add($0) } == got)
        #expect(again.all.last == "Status: Image is up to date for \(reference)")

        // Pinned by digest: exactly that digest runs, and the container says so.
        let pinned = "\(registry.host)/shop/customer@\(digest)"
        let spec = ServiceSpec(name: "customer", image: pinned)
        #expect(try await runtime.prepareImage(spec, always: false) { _ in } == pinned)
        let project = "bi-pin-\(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF)"
        defer { Task { try? await runtime.destroyProject(project) } }
        let instance = try await runtime.startInstance(InstanceRequest(project: project, spec: spec, commit: nil))
        let labels = try await runtime.client.inspectContainer(instance.id).Config.Labels ?? [:]
        #expect(labels[BerthLabel.imageDigest] == pinned)
        try await runtime.destroyProject(project)
    }

    @Test func anUnknownTagFailsWithTheRegistrysMessage() async throws {
        let registry = try LoopbackRegistry()
        defer { registry.stop() }
        try registry.push("shop/customer:1.0", as: "shop/customer", tag: "1.0")
        let runtime = try await DockerRuntime.connect()
        let image = "\(registry.host)/shop/customer:9.9"
        do {
            _ = try await runtime.prepareImage(ServiceSpec(name: "customer", image: image), always: false) { _ in }
            Issue.record("pulled a tag that does not exist")
        } catch let error as DockerError {
            #expect(error.code == .pullFailed)
            #expect(error.message == "pulling image \(image): manifest for \(image) not found: manifest unknown: manifest unknown")
        }
    }

    @Test func credentialsFromBerthsEnvironmentOrTheDockerConfigAndNeverShown() async throws {
        let password = "s3cret-Pa55-\(UInt32.random(in: 0...UInt32.max))"
        let registry = try LoopbackRegistry(user: "deployer", password: password)
        defer { registry.stop() }
        let (reference, _) = try registry.push("shop/customer:1.0", as: "private/customer", tag: "1.0")
        defer { removeImages([reference]) }
        removeImages([reference])
        var runtime = try await DockerRuntime.connect()
        let spec = ServiceSpec(name: "customer", image: reference)
        let scratch = try TemporaryDirectory(prefix: "berth-docker-config")
        defer { scratch.remove() }

        // No credentials: the engine says so.
        runtime.credentials = RegistryCredentials(environment: ["DOCKER_CONFIG": scratch.path])
        await expectUnauthorized(runtime, spec, password: password, saying: "no basic auth credentials")
        // Wrong ones: the same, and the wrong password appears nowhere.
        let wrong = "wrong-\(password)"
        runtime.credentials = RegistryCredentials(environment: [
            "DOCKER_CONFIG": scratch.path, "BERTH_REGISTRY_HOST": registry.host, "BERTH_REGISTRY_USERNAME": "deployer",
            "BERTH_REGISTRY_PASSWORD": wrong,
        ])
        await expectUnauthorized(runtime, spec, password: wrong, saying: "unauthorized")
        // A credential helper is named as unsupported.
        try scratch.write("config.json", #"{"credsStore": "pass"}"#)
        runtime.credentials = RegistryCredentials(environment: ["DOCKER_CONFIG": scratch.path])
        do {
            _ = try await runtime.prepareImage(spec, always: true) { _ in }
            Issue.record("pulled without credentials")
        } catch let error as DockerError {
            #expect(error.message.hasSuffix("(\(scratch.path)/config.json names the credential helper docker-credential-pass for \(registry.host), which Berth does not run; add an auths entry (docker login with no credsStore) or set BERTH_REGISTRY_HOST, BERTH_REGISTRY_USERNAME and BERTH_REGISTRY_PASSWORD)"))
        }
        // Berth's environment, scoped to the host.
        runtime.credentials = RegistryCredentials(environment: [
            "BERTH_REGISTRY_HOST": registry.host, "BERTH_REGISTRY_USERNAME": "deployer", "BERTH_REGISTRY_PASSWORD": password,
        ])
        #expect(try await runtime.prepareImage(spec, always: true) { _ in }?.hasPrefix("\(registry.host)/private/customer@sha256:") == true)
        removeImages([reference])
        // The Docker config's base64 auth.
        let auth = Data("deployer:\(password)".utf8).base64EncodedString()
        try scratch.write("config.json", #"{"auths": {"\#(registry.host)": {"auth": "\#(auth)"}}}"#)
        runtime.credentials = RegistryCredentials(environment: ["DOCKER_CONFIG": scratch.path])
        #expect(try await runtime.prepareImage(spec, always: false) { _ in }?.hasPrefix("\(registry.host)/private/customer@sha256:") == true)
        // The credential's own description never shows the password.
        let credential = try #require(runtime.credentials.lookup(image: reference).credential)
        #expect("\(credential)" == "deployer ((sensitive)) for \(registry.host) from \(scratch.path)/config.json")
        #expect(!String(reflecting: credential).contains(password))
    }

    func expectUnauthorized(_ runtime: DockerRuntime, _ spec: ServiceSpec, password: String, saying words: String) async {
        do {
            _ = try await runtime.prepareImage(spec, always: true) { _ in }
            Issue.record("pulled with no or wrong credentials")
        } catch let error as DockerError {
            #expect(error.code == .pullFailed)
            #expect(error.message.contains(words), "\(error.message)")
            #expect(!error.message.contains(password))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

/// Progress lines, collected from any thread.
final class Lines: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
