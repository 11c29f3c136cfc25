/// The largest values a manifest may hold (README's manifest reference lists them). A value
/// beyond one is a validation error at its place, so whatever validates also plans: counts
/// stay far from 64-bit overflow in every sum and product the planner, the autoscaler and
/// the runtime make of them (replicas × 100%, surge + replicas, durations in nanoseconds).
public enum ManifestLimits {
    /// `spec.replicas`, `autoscale.min`/`max`, and `maxSurge`/`maxUnavailable` as counts.
    public static let replicas = 10_000
    /// Every duration (`interval`, `timeout`, `startPeriod`, `progressDeadline`,
    /// `stopGracePeriod`, `scaleDownDelay`): 365 days.
    public static let duration = Millis(365 * 24 * 3_600_000)
    /// `resources.cpus`, in thousandths: 1024 CPUs.
    public static let milliCPUs = 1_024_000
    /// `resources.memory`: 4 TiB (written 4096Gi).
    public static let memory: Int64 = 4 << 40
    /// `health.failureThreshold`.
    public static let failureThreshold = 1_000
    /// `autoscale.targetRequestsPerSecond`.
    public static let requestsPerSecond = 1_000_000
}
