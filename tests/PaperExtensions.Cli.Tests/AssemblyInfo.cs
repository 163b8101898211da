// Each test starts mlnet-papers processes; two classes at a time keep a 2-core machine busy without thrashing.
[assembly: Parallelize(Scope = ExecutionScope.ClassLevel, Workers = 2)]
