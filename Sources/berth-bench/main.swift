// Benchmarks: `swift run -c release berth-bench [yaml|all|list]`.
//
// Each benchmark lives in its own file and registers here with one line. A benchmark may
// run phases in child processes (`Harness.runPhase`), so each phase's peak memory is its
// own: the child is this executable started as `berth-bench --phase NAME ARGS...`.

let benchmarks: [Benchmark] = [
    yamlBenchmark,
    gitBenchmark,
    planBenchmark,
    applyBenchmark,
    healBenchmark,
    autoscaleBenchmark,
    proxyBenchmark,
    updateBenchmark,
    uiBenchmark,
    swarmBenchmark,
]

Harness.main(benchmarks)
