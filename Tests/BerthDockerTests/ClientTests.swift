import BerthCore
import BerthDocker
import Foundation
import Testing

@Suite("Docker Engine API client")
struct ClientTests {
    @Test func negotiatesTheAPIVersion() async throws {
        let client = try await DockerClient.connect()
        let server = try #require(APIVersion(parsing: client.engineVersion.ApiVersion))
        #expect(client.apiVersion == min(server, DockerClient.supportedAPIVersion))
        #expect(client.apiVersion <= APIVersion(1, 41))
        #expect(try await client.ping())
    }

    @Test func apiVersionsOrder() {
        #expect(APIVersion(parsing: "1.41") == APIVersion(1, 41))
        #expect(APIVersion(1, 9) < APIVersion(1, 41))
        #expect(min(APIVersion(1, 43), DockerClient.supportedAPIVersion) == APIVersion(1, 41))
        #expect(APIVersion(parsing: "1.x") == nil)
        #expect(APIVersion(1, 41).description == "1.41")
    }

    @Test func parsesDockerHost() throws {
        #expect(try DockerEndpoint.fromEnvironment([:]) == .unix(path: "/var/run/docker.sock"))
        #expect(try DockerEndpoint.fromEnvironment(["DOCKER_HOST": ""]) == .unix(path: "/var/run/docker.sock"))
        #expect(try DockerEndpoint(parsing: "unix:///run/d.sock") == .unix(path: "/run/d.sock"))
        #expect(try DockerEndpoint(parsing: "tcp://10.0.0.2:2376") == .tcp(host: "10.0.0.2", port: 2376))
        #expect(try DockerEndpoint(parsing: "tcp://docker") == .tcp(host: "docker", port: 2375))
        #expect(try DockerEndpoint(parsing: "tcp://[::1]:2375") == .tcp(host: "::1", port: 2375))
        #expect(DockerEndpoint.tcp(host: "::1", port: 2375).description == "tcp://[::1]:2375")
        #expect(throws: DockerError.self) { try DockerEndpoint(parsing: "ssh://host") }
        do {
            _ = try DockerEndpoint(parsing: "tcp://host:99999")
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "DOCKER_HOST=tcp://host:99999: the port is not a number from 1 to 65535")
        }
    }

    @Test func missingDaemonSaysWhatToDo() async throws {
        do {
            _ = try await DockerClient.connect(environment: ["DOCKER_HOST": "unix:///nonexistent.sock"])
            Issue.record("connected to a socket that does not exist")
        } catch let error as DockerError {
            #expect(error.code == .daemonUnreachable)
            #expect(
                error.message
                    == "cannot connect to the Docker daemon at unix:///nonexistent.sock: no such socket file. Is dockerd running? Start it with `sudo systemctl start docker` (or `sudo dockerd &`), or set DOCKER_HOST to the engine's address; Berth looked for the socket /nonexistent.sock."
            )
        }
    }

    @Test func refusedTCPSaysWhatToDo() async throws {
        do {
            _ = try await DockerClient.connect(environment: ["DOCKER_HOST": "tcp://127.0.0.1:1"])
            Issue.record("connected to a closed port")
        } catch let error as DockerError {
            #expect(error.code == .daemonUnreachable)
            #expect(
                error.message
                    == "cannot connect to the Docker daemon at tcp://127.0.0.1:1: connection refused. Is dockerd running and listening there? Check DOCKER_HOST, or unset it to use /var/run/docker.sock."
            )
        }
    }

    @Test func containerLifecycle() async throws {
        let client = try await DockerClient.connect()
        let project = uniqueProject("life")
        let name = "\(project)-c"
        let labels = [BerthLabel.project: project, "test.kind": "lifecycle"]
        let id = try await client.createContainer(
            name: name, .init(Image: "shop/customer:1.0", Env: ["A=1"], Labels: labels))
        do {
            var details = try await client.inspectContainer(id)
            #expect(details.Name == "/\(name)")
            #expect(details.State.Status == "created")
            #expect(details.Config.Labels?["test.kind"] == "lifecycle")
            #expect(details.Config.Env?.contains("A=1") == true)

            try await client.startContainer(id)
            details = try await client.inspectContainer(id)
            #expect(details.State.Running)

            let listed = try await client.listContainers(labels: [BerthLabel.project: project])
            #expect(listed.map(\.Id) == [id])
            #expect(listed.first?.State == "running")
            #expect(try await client.listContainers(labels: [BerthLabel.project: project + "-other"]).isEmpty)

            // entry.sh traps TERM: the stop is quick and clean, not a SIGKILL after 10s.
            let clock = ContinuousClock()
            let took = try await clock.measure { try await client.stopContainer(id, timeoutSeconds: 10) }
            #expect(took < .seconds(6))
            details = try await client.inspectContainer(id)
            #expect(!details.State.Running)
            #expect(details.State.ExitCode == 0)
            // Stopping a stopped container is not an error.
            try await client.stopContainer(id, timeoutSeconds: 1)

            try await client.removeContainer(id)
            do {
                _ = try await client.inspectContainer(id)
                Issue.record("container still there after remove")
            } catch let error as DockerError {
                #expect(error.code == .notFound)
                #expect(error.message == "inspecting container \(id): No such container: \(id)")
            }
        } catch {
            try? await client.removeContainer(id)
            throw error
        }
    }

    @Test func killAndExec() async throws {
        let client = try await DockerClient.connect()
        let id = try await client.createContainer(
            name: uniqueProject("exec"), .init(Image: "shop/booking:1.0", Labels: ["test.kind": "exec"]))
        do {
            try await client.startContainer(id)
            let version = try await client.exec(id, ["cat", "/www/version"])
            #expect(version == .init(exitCode: 0, stdout: "booking 1.0\n", stderr: ""))
            let failing = try await client.exec(id, ["sh", "-c", "echo oops >&2; exit 3"])
            #expect(failing == .init(exitCode: 3, stdout: "", stderr: "oops\n"))
            try await client.killContainer(id)
            let details = try await client.inspectContainer(id)
            #expect(!details.State.Running)
            #expect(details.State.ExitCode == 137)
            try await client.removeContainer(id)
        } catch {
            try? await client.removeContainer(id)
            throw error
        }
    }

    @Test func badImageGivesTheEnginesMessage() async throws {
        let client = try await DockerClient.connect()
        let name = uniqueProject("badimage")
        do {
            let id = try await client.createContainer(name: name, .init(Image: "shop/booking:9.9"))
            try? await client.removeContainer(id)
            Issue.record("created a container from an image that does not exist")
        } catch let error as DockerError {
            #expect(error.code == .notFound)
            #expect(error.status == 404)
            #expect(error.engineMessage == "No such image: shop/booking:9.9")
            #expect(error.message == "creating container \(name): No such image: shop/booking:9.9")
        }
    }

    @Test func imagesInspectAndPullWithoutRegistry() async throws {
        let client = try await DockerClient.connect()
        let image = try await client.inspectImage("shop/booking:1.0")
        #expect(image.RepoTags?.contains("shop/booking:1.0") == true)
        #expect(image.Config?.Cmd == ["/entry.sh"])
        do {
            _ = try await client.inspectImage("shop/nothing:1.0")
            Issue.record("inspected a missing image")
        } catch let error as DockerError {
            // The engine repeats itself here; Berth passes its message on verbatim.
            #expect(error.message == "inspecting image shop/nothing:1.0: no such image: shop/nothing:1.0: No such image: shop/nothing:1.0")
        }
        do {
            try await client.pullImage("shop/nothing:1.0", timeout: .seconds(20))
            Issue.record("pulled an image with no registry")
        } catch let error as DockerError {
            #expect(error.code == .registryUnreachable)
            #expect(error.message.hasPrefix("pulling image shop/nothing:1.0: "))
            #expect(
                error.message.hasSuffix(
                    "Build or load the image on this machine (e.g. samples/build-images.sh, docker load) or check the registry."))
        }
    }

    @Test func networks() async throws {
        let client = try await DockerClient.connect()
        let name = "berth-" + uniqueProject("net")
        let id = try await client.createNetwork(name: name, labels: [BerthLabel.project: "x"])
        do {
            let network = try await client.inspectNetwork(name)
            #expect(network.Id == id)
            #expect(network.Driver == "bridge")
            #expect(network.Labels == [BerthLabel.project: "x"])
            do {
                _ = try await client.createNetwork(name: name, labels: [:])
                Issue.record("created a duplicate network")
            } catch let error as DockerError {
                #expect(error.code == .conflict)
                #expect(error.message == "creating network \(name): network with name \(name) already exists")
            }
            try await client.removeNetwork(name)
            do {
                _ = try await client.inspectNetwork(name)
                Issue.record("network still there")
            } catch let error as DockerError {
                #expect(error.code == .notFound)
            }
        } catch {
            try? await client.removeNetwork(name)
            throw error
        }
    }
}
