/// What `berth status` (text and JSON), the watch's API and the web UI say about an
/// autoscaled service: its bounds and target, the count it runs at, and the request rate
/// the balancer measured.
///
/// JSON, inside the service's entry of the status document (only for services with
/// `autoscale`; added fields, none renamed):
/// `"autoscale": {"min": 1, "max": 10, "targetRequestsPerSecond": 50, "scaleDownDelayMs":
/// 60000, "replicas": 4, "requestsPerSecond": 183.2, "rateWindowMs": 5000,
/// "lastDecision": "1 → 4: 183.2 req/s over 1s, target 50 per replica"}` — `requestsPerSecond`
/// and `rateWindowMs` absent when no balancer answered, `lastDecision` when none was made
/// (by this watch).
public struct AutoscaleStatus: Sendable, Hashable, Codable {
    public var min: Int
    public var max: Int
    public var targetRequestsPerSecond: Int?
    public var scaleDownDelayMs: Int64
    /// The count the service is desired at (the autoscaler's, or what runs within the bounds).
    public var replicas: Int
    public var requestsPerSecond: Double?
    public var rateWindowMs: Int64?
    public var lastDecision: String?

    public init(_ spec: Autoscale, replicas: Int, rate: MeasuredRate? = nil, lastDecision: String? = nil) {
        min = spec.min
        max = spec.max
        targetRequestsPerSecond = spec.targetRequestsPerSecond
        scaleDownDelayMs = spec.scaleDownDelay.milliseconds
        self.replicas = replicas
        requestsPerSecond = rate.map { ($0.perSecond * 10).rounded() / 10 }
        rateWindowMs = rate?.windowMs
        self.lastDecision = lastDecision
    }

    /// `4 (autoscaled 1–10, 183 req/s, target 50)`; `0 (autoscaled 0–4, 0 req/s, target 10)`;
    /// without a measured rate (`berth status`, which does not ask the balancer)
    /// `4 (autoscaled 1–10, target 50)`.
    public var text: String {
        var parts = ["autoscaled \(min)–\(max)"]
        if let rate = requestsPerSecond { parts.append("\(Self.rateText(rate)) req/s") }
        if let target = targetRequestsPerSecond { parts.append("target \(target)") }
        return "\(replicas) (" + parts.joined(separator: ", ") + ")"
    }

    /// Whole requests per second from 10 up, one decimal below: `183`, `2.5`, `0`.
    static func rateText(_ rate: Double) -> String {
        if rate >= 10 { return "\(Int(rate.rounded()))" }
        let text = AutoscaleDecision.rateText(rate)
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}

/// A request rate and the span it was measured over.
public struct MeasuredRate: Sendable, Hashable, Codable {
    public var perSecond: Double
    public var windowMs: Int64

    public init(perSecond: Double, windowMs: Int64) {
        self.perSecond = perSecond
        self.windowMs = windowMs
    }
}
