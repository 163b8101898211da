// One test class at a time. TorchSharp 0.107 hands temporary Scalars (the alpha 1 of every a + b, every t * 0.5) to libtorch
// without keeping them alive, so a garbage collection started by another thread can let the finalizer free one that libtorch
// is about to read (dotnet/TorchSharp#1496). Our fits and the text encoder now hold the finalizer thread while they run
// (TorchFinalizerGate, tested in Runtime/TorchFinalizerGateTests); classes still run one at a time because those gate tests
// need to be the only thread inside it, and because parallel classes would share two cores anyway.
[assembly: Parallelize(Scope = ExecutionScope.ClassLevel, Workers = 1)]
