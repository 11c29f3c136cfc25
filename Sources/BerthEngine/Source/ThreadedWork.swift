public import BerthCore
import Dispatch
import Foundation
import Synchronization

/// `ParallelWork` on Dispatch's worker threads: up to `workers` threads each take the next
/// index until none is left (so a slow piece never leaves the others idle), and every
/// result is stored at its index.
public struct ThreadedWork: ParallelWork {
    public let workers: Int

    /// `workers` threads (at least 1); `ThreadedWork.everyCore` for one per core.
    public init(workers: Int) { self.workers = max(1, workers) }

    /// One thread per core the process may run on.
    public static var everyCore: ThreadedWork { ThreadedWork(workers: ProcessInfo.processInfo.activeProcessorCount) }

    public func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        guard workers > 1, count > 1 else { return (0..<count).map(body) }
        let results = Mutex([T?](repeating: nil, count: count))
        let next = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: min(workers, count)) { _ in
            while true {
                let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard k < count else { return }
                let value = body(k)
                results.withLock { $0[k] = value }
            }
        }
        return results.withLock { $0 }.map { $0! }
    }
}
