public import Foundation

/// The service page's chart, drawn by the server as inline SVG (no script, no library):
/// requests per second (line, left axis) and ready replicas (steps, right axis) over the
/// last hour, in 15-second buckets (the highest rate and the last replica count of each).
/// Colours come from `app.css` classes, so the strict Content-Security-Policy holds.
public enum Chart {
    public static let window: TimeInterval = 3600
    public static let buckets = 240
    static let width = 800.0, height = 170.0
    static let left = 44.0, right = 756.0, top = 12.0, bottom = 140.0

    public static func render(_ points: [SeriesPoint], now: Date, hasTraffic: Bool) -> HTML {
        let start = now.addingTimeInterval(-window)
        let recent = points.filter { $0.time > start && $0.time <= now }
        guard !recent.isEmpty else {
            return "<p class=\"empty\">No samples yet: berth watch records the rate and the replicas every 5 seconds.</p>\n"
        }
        // Bucket i covers (start + i*step, start + (i+1)*step].
        let step = window / Double(buckets)
        var rate = [Double?](repeating: nil, count: buckets)
        var replicas = [Int?](repeating: nil, count: buckets)
        for p in recent {
            let i = min(buckets - 1, max(0, Int((p.time.timeIntervalSince(start) / step).rounded(.up)) - 1))
            if let r = p.rate { rate[i] = max(rate[i] ?? 0, r) }
            replicas[i] = p.replicas
        }
        let maxRate = niceCeiling(rate.compactMap { $0 }.max() ?? 0)
        let maxReplicas = niceCeiling(Double(replicas.compactMap { $0 }.max() ?? 0))
        func x(_ i: Int) -> Double { left + (right - left) * Double(i + 1) / Double(buckets) }
        func yRate(_ v: Double) -> Double { bottom - (bottom - top) * v / maxRate }
        func yReplicas(_ v: Int) -> Double { bottom - (bottom - top) * Double(v) / maxReplicas }

        var grid = ""
        for k in 0...4 {
            let y = bottom - (bottom - top) * Double(k) / 4
            grid += "<line class=\"grid\" x1=\"\(fmt(left))\" y1=\"\(fmt(y))\" x2=\"\(fmt(right))\" y2=\"\(fmt(y))\"/>"
            grid += "<text class=\"axis\" x=\"\(fmt(left - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(label(maxRate * Double(k) / 4))</text>"
            grid += "<text class=\"axis\" x=\"\(fmt(right + 6))\" y=\"\(fmt(y + 4))\">\(label(maxReplicas * Double(k) / 4))</text>"
        }
        for minutes in stride(from: 60, through: 0, by: -15) {
            let xx = right - (right - left) * Double(minutes) / 60
            grid += "<text class=\"axis\" x=\"\(fmt(xx))\" y=\"\(fmt(bottom + 18))\" text-anchor=\"middle\">\(minutes == 0 ? "now" : "-\(minutes) min")</text>"
        }

        // Rate: a line, broken where no balancer answered.
        var ratePath = ""
        var drawing = false
        for i in 0..<buckets {
            guard let v = rate[i] else { drawing = false; continue }
            ratePath += (drawing ? "L" : "M") + fmt(x(i)) + " " + fmt(yRate(v))
            drawing = true
        }
        // Replicas: steps from sample to sample.
        var replicaPath = ""
        var last: Int?
        for i in 0..<buckets {
            guard let v = replicas[i] else { continue }
            if last == nil {
                replicaPath += "M" + fmt(x(i)) + " " + fmt(yReplicas(v))
            } else if v != last {
                replicaPath += "H" + fmt(x(i)) + "V" + fmt(yReplicas(v))
            }
            last = v
        }
        if let lastIndex = replicas.lastIndex(where: { $0 != nil }) { replicaPath += "H" + fmt(x(lastIndex)) }

        let currentRate = recent.last(where: { $0.rate != nil })?.rate
        let currentReplicas = recent.last?.replicas ?? 0
        let summary = "requests per second now \(currentRate.map(UIFormat.rate) ?? "unknown"), \(currentReplicas) ready replicas"
        let noTraffic: HTML = hasTraffic
            ? ""
            : "<p class=\"muted\">No berth proxy reports traffic for this project: requests are counted for services with a published port.</p>\n"
        let legend: HTML = """
            <p class="legend"><span class="key rate"></span> requests/s (left, now \(currentRate.map(UIFormat.rate) ?? "—")) \
            <span class="key reps"></span> ready replicas (right, now \(currentReplicas))</p>

            """
        return legend + noTraffic + HTML(trusted: """
            <svg class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(HTML.escape(summary))">\
            <title>\(HTML.escape(summary))</title>\(grid)\
            <path class="reps" d="\(replicaPath)"/>\
            <path class="rate" d="\(ratePath)"/></svg>

            """)
    }

    /// 1, 2, 5, 10, 20, 50, … at or above `value` (at least 1).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 1 else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= value { magnitude *= 10 }
        for m in [1.0, 2, 5, 10] where m * magnitude >= value { return m * magnitude }
        return 10 * magnitude
    }

    /// An axis value: whole numbers bare, fractions with up to two decimals (0.25).
    static func label(_ v: Double) -> String {
        if v == v.rounded() { return String(Int(v)) }
        let hundredths = Int((v * 100).rounded())
        let text = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
        return text.hasSuffix("0") ? String(text.dropLast()) : text
    }

    /// One decimal, no trailing `.0`.
    static func fmt(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(abs(tenths % 10))"
    }
}
