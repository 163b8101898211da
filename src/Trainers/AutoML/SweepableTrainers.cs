using Microsoft.ML.PaperExtensions.AutoML;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Ordinal;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.Survival;
using Microsoft.ML.SearchSpace;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// The trainers of this package and ML.NET's, each with its search space, ready for a <see cref="SweepablePipeline"/>. Our
/// trainers' spaces are read from their options' <c>[Range]</c>/<c>[Choice]</c>/<c>[BooleanChoice]</c> attributes (the same
/// ones Microsoft.ML.AutoML reads); ML.NET's trainers use the small options classes below, whose ranges follow
/// Microsoft.ML.AutoML's with tree counts capped at 1,000 so that a trial stays cheap. Our TorchSharp trainers run their trials
/// alone when trials run in parallel (<see cref="SweepableEstimator.RunsExclusively"/>).
/// </summary>
public static class SweepableTrainers
{
    /// <summary>PRESTO (ordinal, rare end class); lambda is chosen by its own inner cross-validation in every trial.</summary>
    public static SweepableEstimator Presto(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("Presto", new PrestoTrainer.Options { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName },
            (ml, o) => ml.Ordinal().Trainers.Presto(o), runsExclusively: true);

    /// <summary>The proportional-odds model (no options to tune: one trial).</summary>
    public static SweepableEstimator ProportionalOdds(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("ProportionalOdds", new ProportionalOddsTrainer.Options { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName },
            (ml, o) => ml.Ordinal().Trainers.ProportionalOdds(o), runsExclusively: true);

    /// <summary>
    /// The flexible parametric survival model, with the placement of every candidate covariate (none, PH scale, AFT scale or
    /// shape) and the baseline (kappa free, Weibull kappa = 1, Burr XII kappa = 0) part of the search. The search starts from
    /// the trainer's defaults as a user would fit them: every covariate on the PH scale, kappa estimated.
    /// </summary>
    /// <param name="timeColumnName">Observed time.</param>
    /// <param name="eventColumnName">Event indicator.</param>
    /// <param name="candidateFeatureColumnNames">Scalar or vector numeric columns, each placed as a whole.</param>
    /// <param name="eventValue">The event column's value that means an event; null for 0/1 or Boolean.</param>
    public static SweepableEstimator FlexibleSurvival(string timeColumnName, string eventColumnName, IReadOnlyList<string> candidateFeatureColumnNames, double? eventValue = null)
    {
        ArgumentNullException.ThrowIfNull(candidateFeatureColumnNames);
        var space = new SearchSpace { [Baseline] = new ChoiceOption("free", "weibull", "burr") };
        foreach (var name in candidateFeatureColumnNames) space[PlacementKey(name)] = new ChoiceOption(Placements[0], Placements[1], Placements[2], Placements[3]);
        return new SweepableEstimator("FlexibleSurvival", space, (ml, p) =>
        {
            string[] On(string place) => [.. candidateFeatureColumnNames.Where(n => (string)p[PlacementKey(n)] == place)];
            return ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options
            {
                TimeColumnName = timeColumnName,
                EventColumnName = eventColumnName,
                EventValue = eventValue,
                PhFeatureColumnNames = On("ph"),
                AftFeatureColumnNames = On("aft"),
                ShapeFeatureColumnNames = On("shape"),
                Kappa = (string)p[Baseline] switch { "weibull" => 1, "burr" => 0, _ => null },
            });
        }) { RunsExclusively = true };
    }

    private const string Baseline = "Baseline";
    private static readonly string[] Placements = ["ph", "aft", "shape", "none"];

    private static string PlacementKey(string column) => "Place:" + column;

    /// <summary>
    /// WAD with its tuned options, and its method (WAD, pseudo-labelling, self-training or the supervised student alone) a
    /// choice, so that a search can fall back to ignoring the unlabelled rows when they do not help; the teacher rule (anchor
    /// or propagation) is a choice too, so that the propagation teacher's k and alpha are not dead dimensions.
    /// </summary>
    public static SweepableEstimator Wad(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features)
    {
        var space = SearchSpace.FromOptions<WadTrainer.Options>();
        space[nameof(WadTrainer.Options.Method)] = new ChoiceOption([.. Enum.GetValues<SemiSupervisedMethod>().Select(m => (object)m.ToString())], nameof(SemiSupervisedMethod.Wad));
        space[nameof(WadTrainer.Options.Teacher)] = new ChoiceOption([.. Enum.GetValues<TeacherRule>().Select(t => (object)t.ToString())], nameof(TeacherRule.Anchor));
        return SweepableEstimator.Create("Wad", new WadTrainer.Options { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName },
            (ml, o) => ml.SemiSupervised().Trainers.Wad(o), space, runsExclusively: true);
    }

    /// <summary>Label spreading (kNN graph; neighbours, alpha and iterations searched, and the kernel a choice).</summary>
    public static SweepableEstimator LabelSpreading(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features)
    {
        var space = SearchSpace.FromOptions<LabelSpreadingTrainer.Options>();
        space[nameof(LabelSpreadingTrainer.Options.Kernel)] = new ChoiceOption([.. Enum.GetValues<LabelSpreadingKernel>().Select(k => (object)k.ToString())], nameof(LabelSpreadingKernel.Knn));
        return SweepableEstimator.Create("LabelSpreading", new LabelSpreadingTrainer.Options { LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName },
            (ml, o) => ml.SemiSupervised().Trainers.LabelSpreading(o), space, runsExclusively: true);
    }

    /// <summary>The LoRA fine-tuner on a pretrained encoder (classification), its adapter options and schedule searched.</summary>
    public static SweepableEstimator TextFineTuning(TextFineTuningTrainer.Options baseOptions)
    {
        ArgumentNullException.ThrowIfNull(baseOptions);
        return SweepableEstimator.Create("TextFineTuning", baseOptions, (ml, o) => ml.MulticlassClassification.Trainers.FineTuneText(o), runsExclusively: true);
    }

    /// <summary>ML.NET's L-BFGS maximum entropy (multiclass).</summary>
    public static SweepableEstimator LbfgsMaximumEntropy(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("LbfgsMaximumEntropy", new LinearSearchOptions(), (ml, o) => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(o.Apply(new LbfgsMaximumEntropyMulticlassTrainer.Options(), labelColumnName, featureColumnName)));

    /// <summary>ML.NET's SDCA maximum entropy (multiclass).</summary>
    public static SweepableEstimator SdcaMaximumEntropy(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("SdcaMaximumEntropy", new LinearSearchOptions { L2Regularization = 0.1 }, (ml, o) => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(o.Apply(new SdcaMaximumEntropyMulticlassTrainer.Options(), labelColumnName, featureColumnName)));

    /// <summary>ML.NET's LightGBM (multiclass).</summary>
    public static SweepableEstimator LightGbmMulticlass(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("LightGbm", new LightGbmSearchOptions(), (ml, o) => ml.MulticlassClassification.Trainers.LightGbm(o.Apply(new LightGbmMulticlassTrainer.Options(), labelColumnName, featureColumnName)));

    /// <summary>ML.NET's FastTree, one-versus-all (multiclass).</summary>
    public static SweepableEstimator FastTreeOneVersusAll(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("FastTreeOva", new FastTreeSearchOptions(), (ml, o) => ml.MulticlassClassification.Trainers.OneVersusAll(
            ml.BinaryClassification.Trainers.FastTree(o.Apply(new FastTreeBinaryTrainer.Options(), labelColumnName, featureColumnName)), labelColumnName));

    /// <summary>ML.NET's L-BFGS logistic regression (binary).</summary>
    public static SweepableEstimator LbfgsLogisticRegression(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("LbfgsLogisticRegression", new LinearSearchOptions(), (ml, o) => ml.BinaryClassification.Trainers.LbfgsLogisticRegression(o.Apply(new LbfgsLogisticRegressionBinaryTrainer.Options(), labelColumnName, featureColumnName)));

    /// <summary>ML.NET's SDCA logistic regression (binary).</summary>
    public static SweepableEstimator SdcaLogisticRegression(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("SdcaLogisticRegression", new LinearSearchOptions { L2Regularization = 0.1 }, (ml, o) => ml.BinaryClassification.Trainers.SdcaLogisticRegression(o.Apply(new SdcaLogisticRegressionBinaryTrainer.Options(), labelColumnName, featureColumnName)));

    /// <summary>ML.NET's FastTree (binary).</summary>
    public static SweepableEstimator FastTreeBinary(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("FastTree", new FastTreeSearchOptions(), (ml, o) => ml.BinaryClassification.Trainers.FastTree(o.Apply(new FastTreeBinaryTrainer.Options(), labelColumnName, featureColumnName)));

    /// <summary>ML.NET's LightGBM (binary).</summary>
    public static SweepableEstimator LightGbmBinary(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("LightGbm", new LightGbmSearchOptions(), (ml, o) => ml.BinaryClassification.Trainers.LightGbm(o.Apply(new LightGbmBinaryTrainer.Options(), labelColumnName, featureColumnName)));

    /// <summary>ML.NET's SDCA (regression).</summary>
    public static SweepableEstimator SdcaRegression(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("Sdca", new LinearSearchOptions { L2Regularization = 0.1 }, (ml, o) => ml.Regression.Trainers.Sdca(o.Apply(new SdcaRegressionTrainer.Options(), labelColumnName, featureColumnName)));

    /// <summary>ML.NET's FastTree (regression).</summary>
    public static SweepableEstimator FastTreeRegression(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("FastTree", new FastTreeSearchOptions(), (ml, o) => ml.Regression.Trainers.FastTree(o.Apply(new FastTreeRegressionTrainer.Options(), labelColumnName, featureColumnName)));

    /// <summary>ML.NET's LightGBM (regression).</summary>
    public static SweepableEstimator LightGbmRegression(string labelColumnName = ColumnNames.Label, string featureColumnName = ColumnNames.Features) =>
        SweepableEstimator.Create("LightGbm", new LightGbmSearchOptions(), (ml, o) => ml.Regression.Trainers.LightGbm(o.Apply(new LightGbmRegressionTrainer.Options(), labelColumnName, featureColumnName)));
}

/// <summary>The search space of ML.NET's linear trainers (L-BFGS, SDCA): the two penalties, log-uniform.</summary>
public sealed class LinearSearchOptions
{
    /// <summary>L1 penalty.</summary>
    [Range(0.03125, 1024.0, 1.0, true)]
    public double L1Regularization { get; set; } = 1;

    /// <summary>L2 penalty.</summary>
    [Range(0.03125, 1024.0, 1.0, true)]
    public double L2Regularization { get; set; } = 1;

    /// <summary>Sets the searched penalties, the columns and the thread limit on an L-BFGS or SDCA trainer's options.</summary>
    internal TOptions Apply<TOptions>(TOptions options, string label, string features) where TOptions : class
    {
        // L-BFGS and SDCA options share these fields only through generic bases, so they are set by name.
        OptionMembers.Set(options, "LabelColumnName", label);
        OptionMembers.Set(options, "FeatureColumnName", features);
        OptionMembers.Set(options, "L1Regularization", (float?)L1Regularization);
        OptionMembers.Set(options, "L2Regularization", (float?)L2Regularization);
        OptionMembers.Set(options, "NumberOfThreads", ThreadPolicy.CurrentLimit);
        return options;
    }
}

/// <summary>Sets a public field or property of an ML.NET options object by name.</summary>
internal static class OptionMembers
{
    public static void Set(object options, string member, object? value)
    {
        var type = options.GetType();
        if (type.GetField(member) is { } field) field.SetValue(options, Convert(value, field.FieldType));
        else if (type.GetProperty(member) is { } property) property.SetValue(options, Convert(value, property.PropertyType));
        else throw new MissingMemberException(type.Name, member);
    }

    // A float? penalty goes into a float field; null stays null for nullable fields.
    private static object? Convert(object? value, Type target) =>
        value is null || target.IsInstanceOfType(value) ? value : System.Convert.ChangeType(value, Nullable.GetUnderlyingType(target) ?? target, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The search space of ML.NET's LightGBM trainers.</summary>
public sealed class LightGbmSearchOptions
{
    /// <summary>Leaves per tree.</summary>
    [Range(4, 1024, 4, true)]
    public int NumberOfLeaves { get; set; } = 4;

    /// <summary>Fewest rows in a leaf.</summary>
    [Range(2, 128, 20, true)]
    public int MinimumExampleCountPerLeaf { get; set; } = 20;

    /// <summary>Boosting rounds.</summary>
    [Range(4, 1000, 100, true)]
    public int NumberOfIterations { get; set; } = 100;

    /// <summary>Shrinkage.</summary>
    [Range(1e-3, 1.0, 0.1, true)]
    public double LearningRate { get; set; } = 0.1;

    /// <summary>Share of features per tree.</summary>
    [Range(0.1, 1.0, 1.0, false)]
    public double FeatureFraction { get; set; } = 1;

    /// <summary>L2 penalty on leaf values.</summary>
    [Range(1e-6, 10.0, 1e-2, true)]
    public double L2Regularization { get; set; } = 1e-2;

    /// <summary>Sets the searched values, the columns and the thread limit on a LightGBM trainer's options.</summary>
    internal TOptions Apply<TOptions>(TOptions options, string label, string features) where TOptions : class
    {
        // The LightGBM trainers share their options only through a generic base, so the members are set by name.
        OptionMembers.Set(options, "LabelColumnName", label);
        OptionMembers.Set(options, "FeatureColumnName", features);
        OptionMembers.Set(options, "NumberOfLeaves", NumberOfLeaves);
        OptionMembers.Set(options, "MinimumExampleCountPerLeaf", MinimumExampleCountPerLeaf);
        OptionMembers.Set(options, "NumberOfIterations", NumberOfIterations);
        OptionMembers.Set(options, "LearningRate", LearningRate);
        OptionMembers.Set(options, "NumberOfThreads", ThreadPolicy.CurrentLimit);
        OptionMembers.Set(options, "Booster", new GradientBooster.Options { FeatureFraction = FeatureFraction, L2Regularization = L2Regularization });
        return options;
    }
}

/// <summary>The search space of ML.NET's FastTree trainers.</summary>
public sealed class FastTreeSearchOptions
{
    /// <summary>Leaves per tree.</summary>
    [Range(4, 1024, 20, true)]
    public int NumberOfLeaves { get; set; } = 20;

    /// <summary>Fewest rows in a leaf.</summary>
    [Range(2, 128, 10, true)]
    public int MinimumExampleCountPerLeaf { get; set; } = 10;

    /// <summary>Trees.</summary>
    [Range(4, 1000, 100, true)]
    public int NumberOfTrees { get; set; } = 100;

    /// <summary>Shrinkage.</summary>
    [Range(1e-3, 1.0, 0.2, true)]
    public double LearningRate { get; set; } = 0.2;

    /// <summary>Share of features per tree.</summary>
    [Range(0.1, 1.0, 1.0, false)]
    public double FeatureFraction { get; set; } = 1;

    /// <summary>Sets the searched values, the columns and the thread limit on a FastTree trainer's options.</summary>
    internal TOptions Apply<TOptions>(TOptions options, string label, string features) where TOptions : BoostedTreeOptions
    {
        options.LabelColumnName = label;
        options.FeatureColumnName = features;
        options.NumberOfLeaves = NumberOfLeaves;
        options.MinimumExampleCountPerLeaf = MinimumExampleCountPerLeaf;
        options.NumberOfTrees = NumberOfTrees;
        options.LearningRate = LearningRate;
        options.FeatureFraction = FeatureFraction;
        options.NumberOfThreads = ThreadPolicy.CurrentLimit;
        return options;
    }
}
