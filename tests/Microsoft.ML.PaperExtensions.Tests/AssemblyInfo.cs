// One test class at a time. TorchSharp 0.107 hands temporary Scalars (the alpha 1 of every a + b, every t * 0.5) to libtorch
// without keeping them alive; when another thread's allocation starts a garbage collection during the native call, the
// finalizer can free the Scalar that libtorch is about to read ("Unknown scalar type", "Expected false to be true" from
// Scalar::toDouble; dotnet/TorchSharp#1496). Two classes in parallel, one fitting with TorchSharp and one allocating (an
// AutoML search of ML.NET trainers), made survival fits fail that way on a loaded machine.
[assembly: Parallelize(Scope = ExecutionScope.ClassLevel, Workers = 1)]
