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
        public var Entrypoint: [String]?
        public var User: String?
        public var WorkingDir: String?
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
        public var MaximumRetryCount: Int?
        public init(Name: String, MaximumRetryCount: Int? = nil) {
            self.Name = Name
            self.MaximumRetryCount = MaximumRetryCount
        }
    }

    /// One mount of `HostConfig.Mounts`: a volume, a host path (bind) or a tmpfs.
    public struct Mount: Sendable, Codable, Hashable {
        public var `Type`: String
        public var Source: String?
        public var Target: String
        public var ReadOnly: Bool?
        public init(Type: String, Source: String?, Target: String, ReadOnly: Bool? = nil) {
            self.Type = Type
            self.Source = Source
            self.Target = Target
            self.ReadOnly = ReadOnly
        }
    }

    public struct HostConfig: Sendable, Codable, Hashable {
        public var NetworkMode: String?
        public var RestartPolicy: RestartPolicy?
        public var NanoCpus: Int64?
        public var Memory: Int64?
        public var Init: Bool?
        public var Mounts: [Mount]?
        public var ReadonlyRootfs: Bool?
        public var CapAdd: [String]?
        public var CapDrop: [String]?
        /// `no-new-privileges`, seccomp and AppArmor options.
        public var SecurityOpt: [String]?
        /// The most processes (and threads) the container may have; nil or 0: no limit.
        public var PidsLimit: Int64?
        public init(
            NetworkMode: String? = nil, RestartPolicy: RestartPolicy? = .init(Name: "no"), NanoCpus: Int64? = nil,
            Memory: Int64? = nil, Init: Bool? = nil, Mounts: [Mount]? = nil, ReadonlyRootfs: Bool? = nil,
            CapAdd: [String]? = nil, CapDrop: [String]? = nil, SecurityOpt: [String]? = nil, PidsLimit: Int64? = nil
        ) {
            self.NetworkMode = NetworkMode
            self.RestartPolicy = RestartPolicy
            self.NanoCpus = NanoCpus
            self.Memory = Memory
            self.Init = Init
            self.Mounts = Mounts
            self.ReadonlyRootfs = ReadonlyRootfs
            self.CapAdd = CapAdd
            self.CapDrop = CapDrop
            self.SecurityOpt = SecurityOpt
            self.PidsLimit = PidsLimit
        }
    }

    /// An empty JSON object (`ExposedPorts`' values).
    public struct Empty: Sendable, Codable, Hashable { public init() {} }

    public struct NetworkingConfig: Sendable, Codable, Hashable {
        public var EndpointsConfig: [String: EndpointSettings]
        public init(EndpointsConfig: [String: EndpointSettings]) { self.EndpointsConfig = EndpointsConfig }
    }

    /// The body of `POST /containers/create`.
    public struct ContainerCreate: Sendable, Codable, Hashable {
        public var Image: String
        public var Cmd: [String]?
        public var Entrypoint: [String]?
        public var User: String?
        public var WorkingDir: String?
        public var ExposedPorts: [String: Empty]?
        public var Env: [String]?
        public var Labels: [String: String]?
        public var StopTimeout: Int?
        public var HostConfig: HostConfig?
        public var NetworkingConfig: NetworkingConfig?
        public init(
            Image: String, Cmd: [String]? = nil, Entrypoint: [String]? = nil, User: String? = nil,
            WorkingDir: String? = nil, ExposedPorts: [String: Empty]? = nil, Env: [String]? = nil,
            Labels: [String: String]? = nil, StopTimeout: Int? = nil, HostConfig: HostConfig? = .init(),
            NetworkingConfig: NetworkingConfig? = nil
        ) {
            self.Image = Image
            self.Cmd = Cmd
            self.Entrypoint = Entrypoint
            self.User = User
            self.WorkingDir = WorkingDir
            self.ExposedPorts = ExposedPorts
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
        public var RepoDigests: [String]?
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
        public struct Detail: Sendable, Codable, Hashable {
            public var current: Int64?
            public var total: Int64?
        }
        public struct ErrorDetail: Sendable, Codable, Hashable {
            public var message: String?
        }
        public var status: String?
        public var id: String?
        public var progressDetail: Detail?
        public var error: String?
        public var errorDetail: ErrorDetail?
    }

    public struct VolumeCreate: Sendable, Codable, Hashable {
        public var Name: String
        public var Labels: [String: String]
        public init(Name: String, Labels: [String: String]) {
            self.Name = Name
            self.Labels = Labels
        }
    }

    public struct Volume: Sendable, Codable, Hashable {
        public var Name: String
        public var Labels: [String: String]?
        public var Mountpoint: String?
    }

    public struct VolumeList: Sendable, Codable, Hashable {
        public var Volumes: [Volume]?
    }
}
