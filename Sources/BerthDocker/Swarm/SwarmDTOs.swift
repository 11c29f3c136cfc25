/// Docker Engine API JSON shapes of Swarm mode (API 1.41): services, tasks, nodes, the
/// swarm section of `/info`. Only the fields Berth reads or writes; PascalCase as the engine
/// spells them. Durations are nanoseconds, as in the API.
extension Engine {
    public struct ObjectVersion: Sendable, Codable, Hashable {
        public var Index: UInt64
        public init(Index: UInt64) { self.Index = Index }
    }

    // MARK: - Service spec (what Berth writes)

    public struct SwarmHealthConfig: Sendable, Codable, Hashable {
        /// `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`.
        public var Test: [String]?
        public var Interval: Int64?
        public var Timeout: Int64?
        public var Retries: Int?
        public var StartPeriod: Int64?
        public init(Test: [String]?, Interval: Int64?, Timeout: Int64?, Retries: Int?, StartPeriod: Int64?) {
            self.Test = Test
            self.Interval = Interval
            self.Timeout = Timeout
            self.Retries = Retries
            self.StartPeriod = StartPeriod
        }
    }

    public struct ContainerSpec: Sendable, Codable, Hashable {
        public var Image: String
        public var Labels: [String: String]?
        /// Replaces the image's CMD (the entrypoint stays), as `spec.command` does on Docker.
        public var Args: [String]?
        public var Env: [String]?
        public var StopGracePeriod: Int64?
        public var Healthcheck: SwarmHealthConfig?
        public init(
            Image: String, Labels: [String: String]? = nil, Args: [String]? = nil, Env: [String]? = nil,
            StopGracePeriod: Int64? = nil, Healthcheck: SwarmHealthConfig? = nil
        ) {
            self.Image = Image
            self.Labels = Labels
            self.Args = Args
            self.Env = Env
            self.StopGracePeriod = StopGracePeriod
            self.Healthcheck = Healthcheck
        }
    }

    public struct ResourceLimits: Sendable, Codable, Hashable {
        public var NanoCPUs: Int64?
        public var MemoryBytes: Int64?
        public init(NanoCPUs: Int64? = nil, MemoryBytes: Int64? = nil) {
            self.NanoCPUs = NanoCPUs
            self.MemoryBytes = MemoryBytes
        }
    }

    public struct TaskResources: Sendable, Codable, Hashable {
        public var Limits: ResourceLimits?
        public init(Limits: ResourceLimits?) { self.Limits = Limits }
    }

    public struct SwarmRestartPolicy: Sendable, Codable, Hashable {
        /// `none`, `on-failure` or `any`.
        public var Condition: String
        public var Delay: Int64?
        /// 0: no limit.
        public var MaxAttempts: Int?
        public init(Condition: String, Delay: Int64?, MaxAttempts: Int?) {
            self.Condition = Condition
            self.Delay = Delay
            self.MaxAttempts = MaxAttempts
        }
    }

    public struct NetworkAttachmentConfig: Sendable, Codable, Hashable {
        /// The network's name or ID.
        public var Target: String
        public var Aliases: [String]?
        public init(Target: String, Aliases: [String]?) {
            self.Target = Target
            self.Aliases = Aliases
        }
    }

    public struct TaskSpec: Sendable, Codable, Hashable {
        public var ContainerSpec: ContainerSpec
        public var Resources: TaskResources?
        public var RestartPolicy: SwarmRestartPolicy?
        public var Networks: [NetworkAttachmentConfig]?
        /// Bumped to restart every task although nothing else changed.
        public var ForceUpdate: Int?
        public init(
            ContainerSpec: ContainerSpec, Resources: TaskResources? = nil, RestartPolicy: SwarmRestartPolicy? = nil,
            Networks: [NetworkAttachmentConfig]? = nil, ForceUpdate: Int? = nil
        ) {
            self.ContainerSpec = ContainerSpec
            self.Resources = Resources
            self.RestartPolicy = RestartPolicy
            self.Networks = Networks
            self.ForceUpdate = ForceUpdate
        }
    }

    public struct ReplicatedService: Sendable, Codable, Hashable {
        public var Replicas: Int
        public init(Replicas: Int) { self.Replicas = Replicas }
    }

    public struct ServiceMode: Sendable, Codable, Hashable {
        public var Replicated: ReplicatedService?
        public init(Replicated: ReplicatedService?) { self.Replicated = Replicated }
    }

    public struct UpdateConfig: Sendable, Codable, Hashable {
        public var Parallelism: Int
        public var Delay: Int64?
        /// `continue`, `pause` or `rollback`.
        public var FailureAction: String?
        /// How long after a task starts a failure still counts as the update's.
        public var Monitor: Int64?
        public var MaxFailureRatio: Double?
        /// `stop-first` or `start-first`.
        public var Order: String?
        public init(
            Parallelism: Int, Delay: Int64?, FailureAction: String?, Monitor: Int64?, MaxFailureRatio: Double?,
            Order: String?
        ) {
            self.Parallelism = Parallelism
            self.Delay = Delay
            self.FailureAction = FailureAction
            self.Monitor = Monitor
            self.MaxFailureRatio = MaxFailureRatio
            self.Order = Order
        }
    }

    public struct PortConfig: Sendable, Codable, Hashable {
        public var `Protocol`: String?
        public var TargetPort: Int
        /// 0 or absent: an ephemeral port chosen by the node.
        public var PublishedPort: Int?
        /// `ingress` or `host`.
        public var PublishMode: String?
        public init(Protocol: String?, TargetPort: Int, PublishedPort: Int?, PublishMode: String?) {
            self.Protocol = `Protocol`
            self.TargetPort = TargetPort
            self.PublishedPort = PublishedPort
            self.PublishMode = PublishMode
        }
    }

    public struct EndpointSpec: Sendable, Codable, Hashable {
        /// `vip` or `dnsrr`.
        public var Mode: String?
        public var Ports: [PortConfig]?
        public init(Mode: String?, Ports: [PortConfig]?) {
            self.Mode = Mode
            self.Ports = Ports
        }
    }

    /// The body of `POST /services/create` and `/services/{id}/update`.
    public struct SwarmServiceSpec: Sendable, Codable, Hashable {
        public var Name: String
        public var Labels: [String: String]?
        public var TaskTemplate: TaskSpec
        public var Mode: ServiceMode?
        public var UpdateConfig: UpdateConfig?
        public var RollbackConfig: UpdateConfig?
        public var EndpointSpec: EndpointSpec?
        public init(
            Name: String, Labels: [String: String]?, TaskTemplate: TaskSpec, Mode: ServiceMode?,
            UpdateConfig: UpdateConfig?, RollbackConfig: UpdateConfig?, EndpointSpec: EndpointSpec?
        ) {
            self.Name = Name
            self.Labels = Labels
            self.TaskTemplate = TaskTemplate
            self.Mode = Mode
            self.UpdateConfig = UpdateConfig
            self.RollbackConfig = RollbackConfig
            self.EndpointSpec = EndpointSpec
        }

        /// Replicas of a replicated service (0 for any other mode).
        public var replicas: Int { Mode?.Replicated?.Replicas ?? 0 }
    }

    // MARK: - Services, tasks, nodes (what Berth reads)

    public struct UpdateStatus: Sendable, Codable, Hashable {
        /// `updating`, `paused`, `completed`, `rollback_started`, `rollback_paused`,
        /// `rollback_completed`.
        public var State: String?
        public var StartedAt: String?
        public var CompletedAt: String?
        public var Message: String?
    }

    public struct ServiceStatus: Sendable, Codable, Hashable {
        public var RunningTasks: Int?
        public var DesiredTasks: Int?
    }

    public struct ServiceEndpoint: Sendable, Codable, Hashable {
        public var Ports: [PortConfig]?
    }

    public struct SwarmService: Sendable, Codable, Hashable {
        public var ID: String
        public var Version: ObjectVersion
        public var CreatedAt: String?
        public var UpdatedAt: String?
        public var Spec: SwarmServiceSpec
        public var PreviousSpec: SwarmServiceSpec?
        public var Endpoint: ServiceEndpoint?
        public var UpdateStatus: UpdateStatus?
        /// Present when listed with `status=true`.
        public var ServiceStatus: ServiceStatus?
    }

    public struct ContainerStatus: Sendable, Codable, Hashable {
        public var ContainerID: String?
        public var PID: Int?
        public var ExitCode: Int?
    }

    public struct PortStatus: Sendable, Codable, Hashable {
        public var Ports: [PortConfig]?
    }

    public struct TaskStatus: Sendable, Codable, Hashable {
        public var Timestamp: String?
        /// `new` … `running`, `complete`, `shutdown`, `failed`, `rejected`, `remove`, `orphaned`.
        public var State: String
        public var Message: String?
        public var Err: String?
        public var ContainerStatus: ContainerStatus?
        public var PortStatus: PortStatus?
    }

    public struct NetworkAttachment: Sendable, Codable, Hashable {
        public struct NetworkInfo: Sendable, Codable, Hashable {
            public struct Spec: Sendable, Codable, Hashable { public var Name: String? }
            public var ID: String?
            public var Spec: Spec?
        }
        public var Network: NetworkInfo?
        public var Addresses: [String]?
    }

    public struct SwarmTask: Sendable, Codable, Hashable {
        public var ID: String
        public var Version: ObjectVersion?
        public var CreatedAt: String?
        public var UpdatedAt: String?
        public var Labels: [String: String]?
        public var Spec: TaskSpec
        public var ServiceID: String
        public var Slot: Int?
        public var NodeID: String?
        public var Status: TaskStatus
        public var DesiredState: String
        public var NetworksAttachments: [NetworkAttachment]?
    }

    public struct NodeSpec: Sendable, Codable, Hashable {
        public var Name: String?
        public var Labels: [String: String]?
        /// `worker` or `manager`.
        public var Role: String?
        /// `active`, `pause` or `drain`.
        public var Availability: String?
        public init(Name: String? = nil, Labels: [String: String]? = nil, Role: String?, Availability: String?) {
            self.Name = Name
            self.Labels = Labels
            self.Role = Role
            self.Availability = Availability
        }
    }

    public struct NodeDescription: Sendable, Codable, Hashable {
        public var Hostname: String?
    }

    public struct NodeStatus: Sendable, Codable, Hashable {
        /// `unknown`, `down`, `ready` or `disconnected`.
        public var State: String
        public var Message: String?
        /// The address the node's tasks publish host-mode ports on.
        public var Addr: String?
    }

    public struct ManagerStatus: Sendable, Codable, Hashable {
        public var Leader: Bool?
        /// `unknown`, `unreachable` or `reachable`.
        public var Reachability: String?
        public var Addr: String?
    }

    public struct SwarmNode: Sendable, Codable, Hashable {
        public var ID: String
        public var Version: ObjectVersion
        public var Spec: NodeSpec
        public var Description: NodeDescription?
        public var Status: NodeStatus
        public var ManagerStatus: ManagerStatus?
    }

    /// The `Swarm` section of `GET /info`.
    public struct SwarmInfo: Sendable, Codable, Hashable {
        public var NodeID: String?
        public var NodeAddr: String?
        /// `inactive`, `pending`, `active`, `error`, `locked`.
        public var LocalNodeState: String?
        /// True on a manager: the only kind of node that answers service and task calls.
        public var ControlAvailable: Bool?
        public var Error: String?
        public var Nodes: Int?
        public var Managers: Int?
    }

    public struct Info: Sendable, Codable, Hashable {
        public var Name: String?
        public var Swarm: SwarmInfo?
    }

    /// The body of `POST /networks/create` for a swarm-scoped overlay network.
    public struct OverlayNetworkCreate: Sendable, Codable, Hashable {
        public var Name: String
        public var Driver: String
        public var Attachable: Bool
        public var CheckDuplicate: Bool
        public var Labels: [String: String]
    }

    public struct ServiceCreateResponse: Sendable, Codable, Hashable {
        public var ID: String
        public var Warning: String?
    }

    public struct ServiceUpdateResponse: Sendable, Codable, Hashable {
        public var Warnings: [String]?
    }
}
