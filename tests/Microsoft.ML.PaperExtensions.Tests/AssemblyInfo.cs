// TorchSharp initialises once per process and tests share MLContext-free static state only through TorchRuntime,
// which is thread-safe; classes run in parallel, methods within a class in order.
[assembly: Parallelize(Scope = ExecutionScope.ClassLevel, Workers = 2)]
