/// Docker Engine API JSON shapes (API 1.41), only the fields Berth reads or writes. Names
/// follow the engine's PascalCase so that Codable maps them one to one.
public enum Engine {
    public struct Version: Sendable, Codable, Hashable {
        public var Version: String
        public var ApiVersion: String
        public var MinAPIVersion: String?
        public var Os: String?
        public var Arch: String?
    }

    public struct ErrorBody: Sendable, Codable { public var message: String }

    public struct ContainerSummary: Sendable, Codable, Hashable {
        public var Id: String
        public var Names: [String]?
        public var Image: String?
        public var State: String?
        public var Status: String?
        public var Labels: [String: String]?
        public var Created: Int64?
        public var NetworkSettings: NetworkSettings?

        /// The exit code in `Status` ("Exited (137) 3 seconds ago"), if it shows one.
        public var exitCode: Int? {
            guard let status = Status, let open = status.firstIndex(of: "("),
                let close = status[open...].firstIndex(of: ")")
            else { return nil }
            return Int(status[status.index(after: open)..<close])
        }
    }

    public struct ContainerState: Sendable, Codable, Hashable {
        public var Status: String
        public var Running: Bool
        public var ExitCode: Int?
        public var OOMKilled: Bool?
        public var StartedAt: String?
        public var FinishedAt: String?
        public var Error: String?
    }

    public struct EndpointSettings: Sendable, Codable, Hashable {
        public var IPAddress: String?
        public var Aliases: [String]?
        public var NetworkID: String?
        public init(Aliases: [String]? = nil) { self.Aliases = Aliases }
    }

    public struct NetworkSettings: Sendable, Codable, Hashable {
        public var Networks: [String: EndpointSettings]?
    }

    public struct ContainerConfig: Sendable, Codable, Hashable {
        public var Image: String?
        public var Labels: [String: String]?
        public var Env: [String]?
        public var Cmd: [String]?
    }

    public struct ContainerDetails: Sendable, Codable, Hashable {
        public var Id: String
        public var Name: String
        public var Created: String?
        public var State: ContainerState
        public var Config: ContainerConfig
        public var NetworkSettings: NetworkSettings?
        public var HostConfig: HostConfig?
        public var RestartCount: Int?

        /// The container's address on `network`, if it is attached there.
        public func ipAddress(on network: String) -> String? {
            guard let ip = NetworkSettings?.Networks?[network]?.IPAddress, !ip.isEmpty else { return nil }
            return ip
        }
    }

    public struct RestartPolicy: Sendable, Codable, Hashable {
        public var Name: String
        public init(Name: String) { self.Name = Name }
    }

    public struct HostConfig: Sendable, Codable, Hashable {
        public var NetworkMode: String?
        public var RestartPolicy: RestartPolicy?
        public var NanoCpus: Int64?
        public var Memory: Int64?
        public var Init: Bool?
        public init(
            NetworkMode: String? = nil, RestartPolicy: RestartPolicy? = .init(Name: "no"), NanoCpus: Int64? = nil,
            Memory: Int64? = nil, Init: Bool? = nil
        ) {
            self.NetworkMode = NetworkMode
            self.RestartPolicy = RestartPolicy
            self.NanoCpus = NanoCpus
            self.Memory = Memory
            self.Init = Init
        }
    }

    public struct NetworkingConfig: Sendable, Codable, Hashable {
        public var EndpointsConfig: [String: EndpointSettings]
        public init(EndpointsConfig: [String: EndpointSettings]) { self.EndpointsConfig = EndpointsConfig }
    }

    /// The body of `POST /containers/create`.
    public struct ContainerCreate: Sendable, Codable, Hashable {
        public var Image: String
        public var Cmd: [String]?
        public var Env: [String]?
        public var Labels: [String: String]?
        public var StopTimeout: Int?
        public var HostConfig: HostConfig?
        public var NetworkingConfig: NetworkingConfig?
        public init(
            Image: String, Cmd: [String]? = nil, Env: [String]? = nil, Labels: [String: String]? = nil,
            StopTimeout: Int? = nil, HostConfig: HostConfig? = .init(), NetworkingConfig: NetworkingConfig? = nil
        ) {
            self.Image = Image
            self.Cmd = Cmd
            self.Env = Env
            self.Labels = Labels
            self.StopTimeout = StopTimeout
            self.HostConfig = HostConfig
            self.NetworkingConfig = NetworkingConfig
        }
    }

    public struct IDResponse: Sendable, Codable, Hashable {
        public var Id: String
    }

    public struct Network: Sendable, Codable, Hashable {
        public struct Endpoint: Sendable, Codable, Hashable {
            public var Name: String?
            public var IPv4Address: String?
        }
        public var Id: String
        public var Name: String
        public var Driver: String?
        public var Labels: [String: String]?
        public var Containers: [String: Endpoint]?
    }

    public struct NetworkCreate: Sendable, Codable, Hashable {
        public var Name: String
        public var Driver: String
        public var CheckDuplicate: Bool
        public var Labels: [String: String]
    }

    public struct NetworkConnect: Sendable, Codable, Hashable {
        public var Container: String
        public var EndpointConfig: EndpointSettings?
    }

    public struct Image: Sendable, Codable, Hashable {
        public struct Config: Sendable, Codable, Hashable {
            public var Labels: [String: String]?
            public var Cmd: [String]?
        }
        public var Id: String
        public var RepoTags: [String]?
        public var Config: Config?
    }

    public struct ExecCreate: Sendable, Codable, Hashable {
        public var Cmd: [String]
        public var AttachStdout: Bool
        public var AttachStderr: Bool
    }

    public struct ExecStart: Sendable, Codable, Hashable {
        public var Detach: Bool
        public var Tty: Bool
    }

    public struct ExecInspect: Sendable, Codable, Hashable {
        public var Running: Bool
        public var ExitCode: Int?
    }

    /// One line of `GET /events`.
    public struct Event: Sendable, Codable, Hashable {
        public struct Actor: Sendable, Codable, Hashable {
            public var ID: String
            public var Attributes: [String: String]?
        }
        public var `Type`: String?
        public var Action: String
        public var Actor: Actor
        public var time: Int64?
        public var timeNano: Int64?
    }

    /// One progress line of `POST /images/create`.
    public struct PullProgress: Sendable, Codable, Hashable {
        public var status: String?
        public var error: String?
    }
}
