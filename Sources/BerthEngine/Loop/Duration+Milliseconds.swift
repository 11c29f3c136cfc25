extension Duration {
    /// Whole milliseconds, rounded toward zero: what logs, the journal and reports show.
    public var wholeMilliseconds: Int {
        Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }

    /// The duration in seconds, as a `Double` (metrics, `Task.sleep(for: .seconds(_:))`).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
