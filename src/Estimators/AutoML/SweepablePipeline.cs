using System.Reflection;
using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// An estimator with a search space: a factory <c>(MLContext, Parameter) -&gt; IEstimator</c> and the space its parameter
/// comes from, as Microsoft.ML.AutoML's <c>SweepableEstimator</c>.
/// </summary>
public sealed class SweepableEstimator
{
    private readonly Func<MLContext, Parameter, IEstimator<ITransformer>> _factory;

    /// <summary>Creates a sweepable estimator from a factory and a search space.</summary>
    public SweepableEstimator(string name, SearchSpace searchSpace, Func<MLContext, Parameter, IEstimator<ITransformer>> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(searchSpace);
        ArgumentNullException.ThrowIfNull(factory);
        Name = name;
        SearchSpace = searchSpace;
        _factory = factory;
    }

    /// <summary>
    /// A sweepable estimator over an options class: the space is read from the attributes of <typeparamref name="TOptions"/>
    /// (pass <paramref name="searchSpace"/> to narrow or extend it), and each trial's options are a copy of
    /// <paramref name="baseOptions"/> (column names, fixed settings) with the parameter's values set on it.
    /// </summary>
    public static SweepableEstimator Create<TOptions>(string name, TOptions baseOptions, Func<MLContext, TOptions, IEstimator<ITransformer>> factory,
        SearchSpace? searchSpace = null, bool runsExclusively = false) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(baseOptions);
        ArgumentNullException.ThrowIfNull(factory);
        return new SweepableEstimator(name, searchSpace ?? SearchSpace.FromOptions<TOptions>(),
            (ml, parameter) => factory(ml, parameter.ApplyTo(ShallowCopy(baseOptions))))
        {
            RunsExclusively = runsExclusively,
        };
    }

    /// <summary>The name a pipeline and the trial table know it by.</summary>
    public string Name { get; }

    /// <summary>
    /// Whether its trials run with no other trial at the same time, when trials run in parallel: true for this package's
    /// TorchSharp trainers. TorchSharp 0.107 passes implicitly converted <c>Scalar</c>s (the 1 of every <c>a + b</c>) to libtorch
    /// without keeping them alive, so a garbage collection started by another thread can free one while libtorch reads it
    /// (dotnet/TorchSharp#1496); parallel PRESTO trials failed with "Unknown scalar type" here. ML.NET's trainers share the
    /// cores freely.
    /// </summary>
    public bool RunsExclusively { get; init; }

    /// <summary>The options searched.</summary>
    public SearchSpace SearchSpace { get; }

    /// <summary>The estimator of a parameter of <see cref="SearchSpace"/>.</summary>
    public IEstimator<ITransformer> Build(MLContext mlContext, Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(parameter);
        return _factory(mlContext, parameter);
    }

    private static readonly MethodInfo MemberwiseCloneMethod = typeof(object).GetMethod(nameof(MemberwiseClone), BindingFlags.Instance | BindingFlags.NonPublic)!;

    // Options classes hold settings only; a shallow copy keeps the base untouched while each trial sets its own values.
    private static TOptions ShallowCopy<TOptions>(TOptions options) where TOptions : class => (TOptions)MemberwiseCloneMethod.Invoke(options, null)!;
}

/// <summary>
/// Fixed steps (featurization), then one trainer chosen among several, then fixed steps (key to value): the choice of
/// trainer is part of the search (a <see cref="BranchSearchSpace"/>), as in a Microsoft.ML.AutoML pipeline that offers
/// several trainers side by side.
/// </summary>
public sealed class SweepablePipeline
{
    private readonly List<SweepableEstimator> _trainers = [];

    /// <summary>A pipeline whose trainer is one of <paramref name="trainers"/> (the first is the default).</summary>
    public SweepablePipeline(params SweepableEstimator[] trainers)
    {
        ArgumentNullException.ThrowIfNull(trainers);
        foreach (var trainer in trainers) AddTrainer(trainer);
    }

    /// <summary>Steps before the trainer (fitted in every trial: keep them cheap), or null.</summary>
    public IEstimator<ITransformer>? Prefix { get; set; }

    /// <summary>Steps after the trainer, or null.</summary>
    public IEstimator<ITransformer>? Suffix { get; set; }

    /// <summary>The trainers to choose from, in order.</summary>
    public IReadOnlyList<SweepableEstimator> Trainers => _trainers;

    /// <summary>Adds a trainer to choose from.</summary>
    /// <exception cref="ArgumentException">A trainer of the same name is already there.</exception>
    public SweepablePipeline AddTrainer(SweepableEstimator trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        if (_trainers.Any(t => t.Name == trainer.Name)) throw new ArgumentException($"The pipeline already has a trainer named '{trainer.Name}'.", nameof(trainer));
        _trainers.Add(trainer);
        return this;
    }

    /// <summary>The search space: the trainer's name and its options.</summary>
    /// <exception cref="InvalidOperationException">The pipeline has no trainer.</exception>
    public BranchSearchSpace SearchSpace => _trainers.Count == 0
        ? throw new InvalidOperationException("The pipeline has no trainer; add one with AddTrainer.")
        : new BranchSearchSpace([.. _trainers.Select(t => KeyValuePair.Create(t.Name, t.SearchSpace))]);

    /// <summary>Whether the trainer a parameter chooses runs with no other trial at the same time.</summary>
    public bool RunsExclusively(Parameter parameter) => _trainers.First(t => t.Name == SearchSpace.Split(parameter).Branch).RunsExclusively;

    /// <summary>The estimator of a parameter: prefix, the chosen trainer with its options, suffix.</summary>
    public IEstimator<ITransformer> Build(MLContext mlContext, Parameter parameter)
    {
        var (name, _, options) = SearchSpace.Split(parameter);
        IEstimator<ITransformer> trainer = _trainers.First(t => t.Name == name).Build(mlContext, options);
        var chain = new EstimatorChain<ITransformer>();
        if (Prefix is not null) chain = chain.Append(Prefix);
        chain = chain.Append(trainer);
        if (Suffix is not null) chain = chain.Append(Suffix);
        return chain;
    }
}
