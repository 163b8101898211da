using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>A member of an ensemble the experiment returned (<see cref="AutoMLExperiment.SetEnsemble"/>).</summary>
/// <param name="Trial">The search trial whose parameter the member was fitted with.</param>
/// <param name="Weight">Its share of the averaged class probabilities; the weights sum to 1.</param>
public sealed record EnsembleMember(TrialResult Trial, double Weight);

/// <summary>
/// The validation class probabilities of completed search trials, and Caruana et al.'s ensemble selection on them ("Ensemble
/// selection from libraries of models", ICML 2004, as auto-sklearn uses it after its search): starting from the search's best
/// trial, add (with replacement) the trial whose addition to the equally weighted average lowers the metric's loss most, while
/// it falls, up to a number of steps. A trial added c times gets the weight c / (number of additions).
/// </summary>
/// <remarks>
/// Every trial is scored on the same validation rows (the search's draw of the split), so the averages are taken row by row,
/// fold by fold, and scored with the experiment's metric exactly as a trial is: the metric of each fold's validation rows, then
/// the mean over folds. Only the best <see cref="Capacity"/> trials of each trainer by loss keep their probabilities
/// (memory: capacity x trainers x validation rows x classes floats): a long local search makes hundreds of near copies of
/// one trainer, and a library of the best trials overall would hold nothing else, while averaging gains from models that
/// differ (docs/benchmarks.md, "Ensemble selection in the engine").
/// </remarks>
internal sealed class EnsembleLibrary
{
    private readonly DatasetSplit _split;
    private readonly string _labelColumnName;
    private readonly KeyDataViewType _labelType;
    private readonly SortedDictionary<int, (TrialResult Trial, IReadOnlyList<float[]> Scores)> _trials = [];

    /// <summary>Checks that the split's label is a key column (class probabilities are indexed by it).</summary>
    /// <exception cref="InvalidOperationException">The label column is missing or not a key.</exception>
    public EnsembleLibrary(DatasetSplit split, string labelColumnName, int capacity)
    {
        var schema = split.Folds[0].Validation.Schema;
        _labelType = schema.GetColumnOrNull(labelColumnName)?.Type as KeyDataViewType ?? throw new InvalidOperationException(
            $"An ensemble averages class probabilities indexed by a key label, but label column '{labelColumnName}' is " +
            (schema.GetColumnOrNull(labelColumnName) is { } column ? $"{column.Type}" : "not in the data") + "; map it with MapValueToKey, or turn the ensemble off.");
        _split = split;
        _labelColumnName = labelColumnName;
        Capacity = capacity;
    }

    /// <summary>The most trials of one trainer whose probabilities are kept (that trainer's best by loss).</summary>
    public int Capacity { get; }

    /// <summary>Number of classes: the label key's count.</summary>
    public int ClassCount => (int)_labelType.Count;

    /// <summary>
    /// Reads the <c>Score</c> column of a fold's scored validation rows: one row-major array of rows x classes floats.
    /// </summary>
    /// <exception cref="InvalidOperationException">The scored rows have no <c>Score</c> vector of one Single probability per class.</exception>
    public float[] ReadScores(IDataView scored)
    {
        var column = scored.Schema.GetColumnOrNull(ColumnNames.Score);
        if (column?.Type is not VectorDataViewType { ItemType: var item, Size: var size } || item != NumberDataViewType.Single || size != ClassCount)
        {
            throw new InvalidOperationException($"An ensemble averages the trials' class probabilities: the scored rows need a '{ColumnNames.Score}' column of " +
                $"{ClassCount} Single values (one per class of '{_labelColumnName}'), but it is {(column is { } c ? c.Type.ToString() : "missing")}. Turn the ensemble off for this pipeline.");
        }
        var scores = new List<float>();
        var buffer = default(VBuffer<float>);
        using var cursor = scored.GetRowCursor([column.Value]);
        var getter = cursor.GetGetter<VBuffer<float>>(column.Value);
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            foreach (var value in buffer.DenseValues()) scores.Add(value);
        }
        return [.. scores];
    }

    /// <summary>The trials whose probabilities are kept, in trial order.</summary>
    public IEnumerable<TrialResult> Kept => _trials.Values.Select(t => t.Trial);

    /// <summary>Keeps a completed search trial's validation probabilities (one array per fold), dropping its trainer's worst beyond the capacity.</summary>
    public void Add(TrialResult trial, IReadOnlyList<float[]> scores)
    {
        _trials[trial.TrialSettings.TrialId] = (trial, scores);
        var group = _trials.Values.Where(t => t.Trial.TrainerName == trial.TrainerName).ToList();
        if (group.Count > Capacity)
            _trials.Remove(group.OrderByDescending(t => t.Trial.Loss).ThenByDescending(t => t.Trial.TrialSettings.TrialId).First().Trial.TrialSettings.TrialId);
    }

    /// <summary>
    /// Ensemble selection from <paramref name="start"/> (which must be in the library): the members and weights, and the
    /// ensemble's metric (mean over folds) and fold metrics. One member when no addition lowers the loss, or when
    /// <paramref name="cancellationToken"/> fires (the caller wants the search's best at once).
    /// </summary>
    /// <remarks>Cost: the metric is evaluated (steps + 1) x library size x folds times, on the validation rows without fitting anything.</remarks>
    public (IReadOnlyList<EnsembleMember> Members, double Metric, IReadOnlyList<double> FoldMetrics) Select(TrialResult start, AutoMLMetric metric, MLContext mlContext, int maxSteps,
        CancellationToken cancellationToken = default)
    {
        var library = _trials.Values.ToList();
        var labels = _split.Folds.Select(f => ReadLabels(f.Validation)).ToList();
        double[] FoldMetrics(double[][] sums, int total) =>
            [.. labels.Select((y, f) => metric.Evaluate(mlContext, BlendView(mlContext, y, sums[f], total)))];
        double Loss(double[] folds) => (metric.IsMaximize ? -1 : 1) * folds.Average();

        var first = library.FindIndex(t => ReferenceEquals(t.Trial, start));
        if (first < 0) throw new ArgumentException($"Trial {start.TrialSettings.TrialId} has no validation probabilities in the library.", nameof(start));
        var counts = new int[library.Count];
        counts[first] = 1;
        var sums = library[first].Scores.Select(s => s.Select(v => (double)v).ToArray()).ToArray();
        var current = FoldMetrics(sums, 1);
        for (var step = 1; step < maxSteps; step++)
        {
            // The candidate whose addition lowers the loss most (the first in trial order on a tie).
            (int Index, double[] Folds, double Loss) best = (-1, [], Loss(current));
            for (var m = 0; m < library.Count; m++)
            {
                var candidate = FoldMetrics([.. sums.Select((s, f) => Add(s, library[m].Scores[f]))], step + 1);
                var loss = Loss(candidate);
                if (loss < best.Loss - 1e-12 * Math.Max(1, Math.Abs(best.Loss))) best = (m, candidate, loss);
            }
            if (cancellationToken.IsCancellationRequested) return ([new EnsembleMember(start, 1)], start.Metric, start.FoldMetrics);
            if (best.Index < 0) break;
            counts[best.Index]++;
            sums = [.. sums.Select((s, f) => Add(s, library[best.Index].Scores[f]))];
            current = best.Folds;
        }
        var total = (double)counts.Sum();
        var members = counts.Select((c, m) => (c, m)).Where(x => x.c > 0).OrderByDescending(x => x.c).ThenBy(x => x.m)
            .Select(x => new EnsembleMember(library[x.m].Trial, x.c / total)).ToList();
        return (members, current.Average(), current);
    }

    private static double[] Add(double[] sum, float[] scores)
    {
        var result = (double[])sum.Clone();
        for (var i = 0; i < result.Length; i++) result[i] += scores[i];
        return result;
    }

    private uint[] ReadLabels(IDataView validation)
    {
        var column = validation.Schema[_labelColumnName];
        var labels = new List<uint>();
        using var cursor = validation.GetRowCursor([column]);
        var getter = cursor.GetGetter<uint>(column);
        uint value = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            labels.Add(value);
        }
        return [.. labels];
    }

    // Scored rows as a trial's would look to the metric: the label, the averaged probabilities as Score, their arg max as PredictedLabel.
    private IDataView BlendView(MLContext mlContext, uint[] labels, double[] sums, int total)
    {
        var k = ClassCount;
        var rows = new BlendRow[labels.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            var score = new float[k];
            var top = 0;
            for (var c = 0; c < k; c++)
            {
                score[c] = (float)(sums[i * k + c] / total);
                if (score[c] > score[top]) top = c;
            }
            // LoadFromEnumerable takes key values 0-based (a missing label, 0, becomes out of range and the metric says so).
            rows[i] = new BlendRow { Label = labels[i] - 1, Score = score, PredictedLabel = (uint)top };
        }
        var definition = SchemaDefinition.Create(typeof(BlendRow));
        definition[nameof(BlendRow.Label)].ColumnType = _labelType;
        definition[nameof(BlendRow.Label)].ColumnName = _labelColumnName;
        definition[nameof(BlendRow.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, k);
        definition[nameof(BlendRow.PredictedLabel)].ColumnType = new KeyDataViewType(typeof(uint), k);
        return mlContext.Data.LoadFromEnumerable(rows, definition);
    }

    private sealed class BlendRow
    {
        public uint Label { get; set; }

        public float[] Score { get; set; } = [];

        public uint PredictedLabel { get; set; }
    }
}
