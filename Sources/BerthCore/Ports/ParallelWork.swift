/// Runs independent pieces of pure work side by side. BerthCore only says what can run in
/// parallel (for example `ManifestLoader.parse(_:on:)`: files, and parts of large files);
/// threads are the adapter's business (`BerthEngine.ThreadedWork`), so the pure module never
/// touches a thread, a queue or a lock.
public protocol ParallelWork: Sendable {
    /// How many calls may run at once (1: one after the other).
    var workers: Int { get }
    /// `(0..<count).map(body)`: the same results in the same order, the calls spread over up
    /// to `workers` threads in any order.
    func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T]
}

/// `ParallelWork` on the calling thread, one call after the other.
public struct SerialWork: ParallelWork {
    public init() {}
    public var workers: Int { 1 }
    public func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] { (0..<count).map(body) }
}
