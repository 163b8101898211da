using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>The rows of one student training round, as canonical row indices into the training data.</summary>
/// <param name="Labeled">Labelled rows (ground truth and promoted rows).</param>
/// <param name="LabeledClasses">Their classes.</param>
/// <param name="Unlabeled">Unlabelled rows with a pseudo-label, or empty for a supervised round.</param>
/// <param name="PseudoClasses">Their pseudo-labels.</param>
/// <param name="Weights">Their weights (the loss multiplies each row's cross-entropy by it).</param>
internal sealed record StudentRound(int[] Labeled, long[] LabeledClasses, int[] Unlabeled, long[] PseudoClasses, double[] Weights);

/// <summary>The classifier WAD distils into.</summary>
internal interface IStudent : IDisposable
{
    /// <summary>Trains one round, continuing from the current state.</summary>
    void Train(StudentRound round, int roundNumber, int totalRounds);

    /// <summary>Class probabilities of <paramref name="rows"/>, [rows, K] row-major.</summary>
    double[] Probabilities(int[] rows);
}

/// <summary>What the MLP student is trained with.</summary>
internal sealed record MlpStudentSettings
{
    public required int HiddenWidth { get; init; }

    public required int HiddenLayers { get; init; }

    public required int IterationsPerRound { get; init; }

    /// <summary>Rows per labelled batch and per unlabelled batch.</summary>
    public required int BatchSize { get; init; }

    public required double LearningRate { get; init; }

    /// <summary>Standard deviation of the Gaussian noise on the standardised inputs.</summary>
    public required double InputNoise { get; init; }
}

/// <summary>
/// The TorchSharp MLP student (section 3.3): per iteration a labelled batch and an unlabelled batch drawn with replacement,
/// loss = mean labelled cross-entropy + mean of weight x cross-entropy to the pseudo-label; Adam created anew each round,
/// weights carried over; Gaussian input noise replaces image augmentation.
/// </summary>
internal sealed class MlpStudent : IStudent
{
    private readonly Tensor _x;
    private readonly Sequential _network;
    private readonly MlpStudentSettings _settings;
    private readonly Generator _generator;
    private readonly TrainingMonitor _monitor;

    public MlpStudent(Tensor x, int classCount, MlpStudentSettings settings, Generator generator, TrainingMonitor monitor)
    {
        _x = x;
        _settings = settings;
        _generator = generator;
        _monitor = monitor;
        var sizes = new List<int> { (int)x.shape[1] };
        sizes.AddRange(Enumerable.Repeat(settings.HiddenWidth, settings.HiddenLayers));
        sizes.Add(classCount);
        _network = MlpWeights.CreateModule(sizes, x.device, generator);
    }

    public MlpWeights Weights => MlpWeights.From(_network);

    public void Train(StudentRound round, int roundNumber, int totalRounds)
    {
        var device = _x.device;
        using var scope = NewDisposeScope();
        var labeled = tensor(round.Labeled.Select(i => (long)i).ToArray(), device: device);
        var labeledClasses = tensor(round.LabeledClasses, device: device);
        var useUnlabeled = round.Unlabeled.Length > 0;
        var unlabeled = tensor(round.Unlabeled.Select(i => (long)i).ToArray(), device: device);
        var pseudo = tensor(round.PseudoClasses, device: device);
        var weights = tensor(round.Weights.Select(w => (float)w).ToArray(), device: device);
        using var optimizer = optim.Adam(_network.parameters(), _settings.LearningRate);
        _network.train();
        double recent = 0;
        for (var iteration = 1; iteration <= _settings.IterationsPerRound; iteration++)
        {
            using var step = NewDisposeScope();
            var pick = randint(round.Labeled.Length, [_settings.BatchSize], generator: _generator).to(device);
            var labeledLogits = _network.forward(Noisy(labeled.index_select(0, pick)));
            Tensor loss;
            if (useUnlabeled)
            {
                var u = randint(round.Unlabeled.Length, [_settings.BatchSize], generator: _generator).to(device);
                loss = Loss(labeledLogits, labeledClasses.index_select(0, pick),
                    _network.forward(Noisy(unlabeled.index_select(0, u))), pseudo.index_select(0, u), weights.index_select(0, u));
            }
            else
            {
                loss = Loss(labeledLogits, labeledClasses.index_select(0, pick));
            }
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (iteration % 100 == 0)
            {
                _monitor.CancellationToken.ThrowIfCancellationRequested();
                TorchFinalizerGate.SafePoint();
            }
            if (iteration > _settings.IterationsPerRound - 50) recent += loss.item<float>();
        }
        _monitor.Report(new TrainingProgress("student round", roundNumber, totalRounds, recent / Math.Min(50, _settings.IterationsPerRound)));
    }

    /// <summary>
    /// The student loss of section 3.3: mean cross-entropy over the labelled batch plus, when an unlabelled batch is given,
    /// the mean over it of weight x cross-entropy to the pseudo-label.
    /// </summary>
    public static Tensor Loss(Tensor labeledLogits, Tensor labeledClasses, Tensor? unlabeledLogits = null, Tensor? pseudoClasses = null, Tensor? weights = null)
    {
        var loss = nn.functional.cross_entropy(labeledLogits, labeledClasses);
        if (unlabeledLogits is null) return loss;
        var perRow = nn.functional.cross_entropy(unlabeledLogits, pseudoClasses!, reduction: nn.Reduction.None);
        return loss.add(perRow.mul(weights!).mean());
    }

    private Tensor Noisy(Tensor rows)
    {
        var x = _x.index_select(0, rows);
        return _settings.InputNoise > 0 ? x.add(randn(x.shape, generator: _generator).to(x.device).mul(_settings.InputNoise)) : x;
    }

    public double[] Probabilities(int[] rows)
    {
        const int chunk = 65_536;
        using var _ = no_grad();
        _network.eval();
        var probabilities = new List<double>(rows.Length * 4);
        for (var start = 0; start < rows.Length; start += chunk)
        {
            using var scope = NewDisposeScope();
            var part = rows.AsSpan(start, Math.Min(chunk, rows.Length - start)).ToArray();
            var x = _x.index_select(0, tensor(part.Select(i => (long)i).ToArray(), device: _x.device));
            probabilities.AddRange(TensorCopy.ToArray(nn.functional.softmax(_network.forward(x), 1).to_type(ScalarType.Float64)));
        }
        return [.. probabilities];
    }

    public void Dispose() => _network.Dispose();
}

/// <summary>
/// An ML.NET multiclass trainer as the student (section 4, student b): each round it is fitted from scratch on the labelled
/// rows (weight 1) and the unlabelled rows with a positive weight (label = pseudo-label, weight = w x scale).
/// </summary>
internal sealed class MlNetStudent(MLContext mlContext, SemiSupervisedData data, StudentTrainerFactory factory, double? weightScale, TrainingMonitor monitor) : IStudent
{
    public const string FeatureColumn = "WadStandardizedFeatures";
    private const string LabelColumn = "Label";
    private const string WeightColumn = "Weight";

    /// <summary>The student's fitted transformer; it reads <see cref="FeatureColumn"/>.</summary>
    public ITransformer? Transformer { get; private set; }

    public void Train(StudentRound round, int roundNumber, int totalRounds)
    {
        var scale = weightScale ?? (round.Unlabeled.Length == 0 ? 1 : (double)round.Labeled.Length / round.Unlabeled.Length);
        var rows = round.Labeled.Select((r, i) => (Row: r, Class: round.LabeledClasses[i], Weight: 1.0))
            .Concat(round.Unlabeled.Select((r, i) => (Row: r, Class: round.PseudoClasses[i], Weight: round.Weights[i] * scale)).Where(t => t.Weight > 0))
            .ToList();
        var table = ToDataView(rows.Select(t => t.Row).ToArray(), rows.Select(t => t.Class).ToArray(), rows.Select(t => t.Weight).ToArray());
        var estimator = factory(LabelColumn, FeatureColumn, WeightColumn)
            ?? throw new InvalidOperationException("The student trainer factory returned null.");
        (Transformer as IDisposable)?.Dispose();
        Transformer = estimator.Fit(table);
        monitor.Report(new TrainingProgress("student round", roundNumber, totalRounds));
    }

    public double[] Probabilities(int[] rows)
    {
        var transformer = Transformer ?? throw new InvalidOperationException("The student has not been trained.");
        var scored = transformer.Transform(ToDataView(rows, null, null));
        if (scored.Schema.GetColumnOrNull(ColumnNames.Score) is not { Type: VectorDataViewType { Size: var size } } column || size != data.ClassCount)
        {
            throw new InvalidOperationException($"The student trainer must write a '{ColumnNames.Score}' vector of {data.ClassCount} class probabilities; " +
                $"its output has {scored.Schema.GetColumnOrNull(ColumnNames.Score)?.Type.ToString() ?? "no such column"}.");
        }
        return scored.GetColumn<float[]>(column).SelectMany(v => v.Select(p => (double)p)).ToArray();
    }

    private IDataView ToDataView(int[] rows, long[]? classes, double[]? weights)
    {
        var p = data.FeatureCount;
        var items = rows.Select((r, i) => new StudentRow
        {
            WadStandardizedFeatures = data.Features.AsSpan(r * p, p).ToArray(),
            Label = classes is null ? 0 : (uint)classes[i],   // LoadFromEnumerable takes key values 0-based
            Weight = weights is null ? 1 : (float)weights[i],
        });
        var schema = SchemaDefinition.Create(typeof(StudentRow));
        schema[FeatureColumn].ColumnType = new VectorDataViewType(NumberDataViewType.Single, p);
        schema[LabelColumn].ColumnType = new KeyDataViewType(typeof(uint), data.ClassCount);
        var names = new VBuffer<ReadOnlyMemory<char>>(data.ClassCount, data.ClassNames.Select(n => n.AsMemory()).ToArray());
        schema[LabelColumn].AddAnnotation("KeyValues", names, new VectorDataViewType(TextDataViewType.Instance, data.ClassCount));
        return mlContext.Data.LoadFromEnumerable(items, schema);
    }

    /// <summary>Hands the fitted transformer to the caller, so that <see cref="Dispose"/> leaves it alone.</summary>
    public ITransformer? DetachTransformer()
    {
        var transformer = Transformer;
        Transformer = null;
        return transformer;
    }

    public void Dispose() => (Transformer as IDisposable)?.Dispose();

    private sealed class StudentRow
    {
        public float[] WadStandardizedFeatures { get; set; } = [];
        public uint Label { get; set; }
        public float Weight { get; set; }
    }
}

/// <summary>
/// The neighbour student (<see cref="StudentRule.Neighbors"/>): the rows that carry a target after a round (labelled and
/// promoted rows 1 for their class, pool rows their weight for their pseudo-label) vote with those targets for the rows they
/// are among the k nearest of, in the given space; probabilities are the normalised votes.
/// </summary>
internal sealed class NeighborStudent(Tensor space, int classCount, int neighbors, CancellationToken cancellationToken) : IStudent
{
    private int[] _rows = [];
    private double[] _targets = [];

    /// <summary>The voting rows (canonical row indices) after the last round.</summary>
    public IReadOnlyList<int> Rows => _rows;

    /// <summary>Their targets, [Rows, K] row-major.</summary>
    public double[] Targets => _targets;

    public void Train(StudentRound round, int roundNumber, int totalRounds)
    {
        var rows = new List<int>(round.Labeled.Length + round.Unlabeled.Length);
        var targets = new List<double>((round.Labeled.Length + round.Unlabeled.Length) * classCount);
        void Add(int row, long cls, double weight)
        {
            rows.Add(row);
            for (var c = 0; c < classCount; c++) targets.Add(c == cls ? weight : 0);
        }
        for (var i = 0; i < round.Labeled.Length; i++) Add(round.Labeled[i], round.LabeledClasses[i], 1);
        for (var i = 0; i < round.Unlabeled.Length; i++)
        {
            if (round.Weights[i] > 0) Add(round.Unlabeled[i], round.PseudoClasses[i], round.Weights[i]);
        }
        _rows = [.. rows];
        _targets = [.. targets];
    }

    public double[] Probabilities(int[] rows)
    {
        if (_rows.Length == 0) throw new InvalidOperationException("The student has not been trained.");
        using var scope = NewDisposeScope();
        var device = space.device;
        var voters = space.index_select(0, tensor(_rows.Select(r => (long)r).ToArray(), device: device));
        var votes = tensor(_targets, [_rows.Length, classCount], ScalarType.Float64, device);
        var nearest = LabelSpreadingGraph.NearestAmong(space.index_select(0, tensor(rows.Select(r => (long)r).ToArray(), device: device)), voters,
            Math.Min(neighbors, _rows.Length), cancellationToken);
        var sums = votes.index_select(0, nearest.reshape(-1)).reshape(rows.Length, nearest.shape[1], classCount).sum(1);
        return TensorCopy.ToArray(sums.div(sums.sum(1, keepdim: true)));
    }

    public void Dispose()
    {
    }
}
