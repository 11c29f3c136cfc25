/// One metric family for the Prometheus text exposition format (version 0.0.4).
public struct MetricFamily: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case counter, gauge, histogram
    }

    public var name: String
    public var help: String
    public var kind: Kind
    public var samples: [MetricSample]

    public init(_ name: String, _ kind: Kind, help: String, samples: [MetricSample]) {
        self.name = name
        self.help = help
        self.kind = kind
        self.samples = samples
    }
}

/// One line of a family: `name{labels} value`.
public struct MetricSample: Sendable, Hashable {
    /// Added to the family's name: `_bucket`, `_sum`, `_count` for a histogram; empty else.
    public var suffix: String
    /// In the order written (Berth writes `project` first, the rest by name).
    public var labels: [Label]
    public var value: Double

    public struct Label: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(suffix: String = "", _ labels: [(String, String)], _ value: Double) {
        self.suffix = suffix
        self.labels = labels.map { Label($0.0, $0.1) }
        self.value = value
    }

    public init(suffix: String = "", _ labels: [(String, String)], _ value: Int) {
        self.init(suffix: suffix, labels, Double(value))
    }
}

/// Berth's one Prometheus text renderer, for `berth watch`'s and `berth proxy`'s `/metrics`:
/// families in name order; in a counter or gauge, series in the order of their label
/// values; a histogram's lines as given (buckets by `le`, then `_sum` and `_count`). Label
/// values escape `\`, `"` and newlines, help texts `\` and newlines. Whole numbers print
/// without a decimal point.
public enum PrometheusText {
    public static func render(_ families: [MetricFamily]) -> String {
        var out = ""
        for family in families.sorted(by: { $0.name < $1.name }) {
            out += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            out += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            let samples = family.kind == .histogram ? family.samples : family.samples.sorted(by: ordered)
            for sample in samples {
                out += family.name + sample.suffix
                if !sample.labels.isEmpty {
                    out += "{" + sample.labels.map { "\($0.name)=\"\(escapeLabel($0.value))\"" }.joined(separator: ",") + "}"
                }
                out += " " + format(sample.value) + "\n"
            }
        }
        return out
    }

    static func ordered(_ a: MetricSample, _ b: MetricSample) -> Bool {
        if a.suffix != b.suffix { return a.suffix < b.suffix }
        for (x, y) in zip(a.labels, b.labels) where x != y {
            return x.name != y.name ? x.name < y.name : x.value < y.value
        }
        return a.labels.count < b.labels.count
    }

    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    public static func escapeLabel(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func escapeHelp(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
