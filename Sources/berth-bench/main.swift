// Benchmarks: `swift run -c release berth-bench [yaml|git|plan|all]`.
print("berth-bench: no benchmarks yet")
