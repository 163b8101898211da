namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>Uniform random points of the feature space (so log ranges are sampled log-uniformly); seeded, so repeatable.</summary>
public sealed class RandomSearchTuner : ITuner
{
    private readonly OptionBase _space;
    private readonly Random _random;

    /// <summary>Creates the tuner.</summary>
    public RandomSearchTuner(OptionBase space, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(space);
        _space = space;
        _random = new Random(seed);
    }

    /// <inheritdoc />
    public Parameter? Propose(TrialSettings settings)
    {
        var point = new double[_space.FeatureSpaceDimension];
        for (var i = 0; i < point.Length; i++) point[i] = _random.NextDouble();
        return (Parameter)_space.SampleFromFeatureSpace(point);
    }

    /// <inheritdoc />
    public void Update(TrialResult result)
    {
    }
}

/// <summary>
/// Every point of the grid once: each choice's values, <c>steps</c> evenly spaced points of each range (in the feature
/// space, so log ranges get log-spaced points; integer ranges lose repeated values). Branches are visited in turn. Proposes
/// null when the grid is done, which ends the experiment.
/// </summary>
public sealed class GridSearchTuner : ITuner
{
    private readonly IEnumerator<object> _grid;

    /// <summary>Creates the tuner.</summary>
    public GridSearchTuner(OptionBase space, int steps = 5)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        _grid = space.Grid(steps).GetEnumerator();
    }

    /// <inheritdoc />
    public Parameter? Propose(TrialSettings settings) => _grid.MoveNext() ? (Parameter)_grid.Current : null;

    /// <inheritdoc />
    public void Update(TrialResult result)
    {
    }
}

/// <summary>
/// Cost-frugal search, after FLAML's CFO (Wu, Wang, Huang, AAAI 2021) as Microsoft.ML.AutoML uses it by default: a local
/// randomized direct search (FLOW2) in the feature space that starts from the options' initial values (the cheap, known-good
/// defaults) and moves only on improvement; over a pipeline's trainers, one such search per trainer and a choice among them
/// by estimated cost for improvement (ECI).
/// </summary>
/// <remarks>
/// <para>FLOW2, as built here: from the incumbent x with step size s, try x + s u for a random unit direction u; if that does
/// not improve, try x - s u. After max(2, d) (d = dimension) such failed directions in a row, s halves; below
/// s_min = 0.01 sqrt(d) the search restarts from a random point with the initial step 0.1 sqrt(d) (FLAML's
/// constants), keeping the best result. A proposal that maps to a parameter already tried (a move too small to change a
/// choice or an integer) is not run: another direction is drawn, and after every 8 such draws s doubles, up to sqrt(d).</para>
/// <para>ECI (a simplification of FLAML's, stated here because the papers leave it open): each trainer is tried once first,
/// in pipeline order. Then trainer i, with best loss b_i, time spent T_i, time since its last improvement t_i, last trial cost
/// c_i and improvement rate r_i = (first loss - b_i) / T_i, has ECI_i = max(c_i, t_i, (b_i - b*) / r_i), capped at 4 max(T_i, mean T)
/// so that no trainer starves (and a cheap trainer that never improves is not drawn for being cheap); trainers are drawn
/// with probability proportional to 1 / ECI_i.</para>
/// </remarks>
public sealed class CostFrugalTuner : ITuner
{
    private readonly TrainerChoice _choice;

    /// <summary>Creates the tuner on a search space, or on a <see cref="BranchSearchSpace"/> of trainers.</summary>
    public CostFrugalTuner(OptionBase space, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(space);
        _choice = new TrainerChoice(space, seed, (branch, random) => new LocalSearch(branch, random), "cost-frugal");
    }

    /// <inheritdoc />
    public Parameter? Propose(TrialSettings settings) => _choice.Propose(settings);

    /// <inheritdoc />
    public void Update(TrialResult result) => _choice.Update(result);

    /// <summary>FLOW2 on one search space.</summary>
    private sealed class LocalSearch : BranchSearch
    {
        private const int MaxDuplicateDraws = 64;
        private readonly SearchSpace _space;
        private readonly Random _random;
        private readonly int _dimension;
        private readonly double _initialStep, _minimumStep, _maximumStep;
        private readonly HashSet<Parameter> _tried = [];
        private double[] _incumbent;
        private double _incumbentLoss = double.PositiveInfinity;
        private double[]? _direction;
        private bool _mirrorPending;
        private int _failedDirections;
        private double _step;

        public LocalSearch(SearchSpace space, Random random)
        {
            _space = space;
            _random = random;
            _dimension = space.FeatureSpaceDimension;
            _initialStep = 0.1 * Math.Sqrt(Math.Max(1, _dimension));
            _minimumStep = 0.01 * Math.Sqrt(Math.Max(1, _dimension));
            _maximumStep = Math.Sqrt(Math.Max(1, _dimension));
            _step = _initialStep;
            _incumbent = space.MappingToFeatureSpace(space.DefaultParameter);
        }

        /// <summary>A space without options has one point; once tried, there is nothing left.</summary>
        public override bool Exhausted => _dimension == 0 && _tried.Count > 0;

        public override (double[] Point, bool Mirror, Parameter Parameter) Next()
        {
            if (_tried.Count == 0)
            {
                // The initial values themselves (not their round trip through the feature space).
                _tried.Add(_space.DefaultParameter);
                return (_incumbent, false, _space.DefaultParameter);
            }
            for (var attempt = 0; attempt < MaxDuplicateDraws; attempt++)
            {
                bool mirror;
                if (_mirrorPending && _direction is not null)
                {
                    mirror = true;
                    _mirrorPending = false;
                }
                else
                {
                    _direction = RandomUnitVector();
                    mirror = false;
                    _mirrorPending = true;
                }
                var point = new double[_dimension];
                for (var i = 0; i < _dimension; i++) point[i] = Math.Clamp(_incumbent[i] + (mirror ? -_step : _step) * _direction![i], 0, 1);
                if (!_tried.Contains(_space.Sample(point))) return Take(point, mirror);
                // A move too small to change any choice or integer is no evidence against the incumbent: widen the step.
                if (attempt % 8 == 7) _step = Math.Min(2 * _step, _maximumStep);
            }
            // Every nearby point was tried: start again elsewhere.
            Restart();
            var fresh = Enumerable.Range(0, _dimension).Select(_ => _random.NextDouble()).ToArray();
            return Take(fresh, mirror: false);
        }

        private (double[], bool, Parameter) Take(double[] point, bool mirror)
        {
            var parameter = _space.Sample(point);
            _tried.Add(parameter);
            return (point, mirror, parameter);
        }

        protected override void Learn(double[] point, bool mirror, double loss)
        {
            if (loss < _incumbentLoss)
            {
                _incumbent = point;
                _incumbentLoss = loss;
                _failedDirections = 0;
                _mirrorPending = false;
            }
            else if (mirror)
            {
                Failed();
            }
        }

        private void Failed()
        {
            if (++_failedDirections < Math.Max(2, _dimension)) return;
            _failedDirections = 0;
            _step /= 2;
            if (_step < _minimumStep) Restart();
        }

        private void Restart()
        {
            _step = _initialStep;
            _failedDirections = 0;
            _mirrorPending = false;
            _incumbent = Enumerable.Range(0, _dimension).Select(_ => _random.NextDouble()).ToArray();
            _incumbentLoss = double.PositiveInfinity;
        }

        private double[] RandomUnitVector()
        {
            var v = new double[_dimension];
            double norm;
            do
            {
                norm = 0;
                for (var i = 0; i < v.Length; i++)
                {
                    // Box-Muller: a Gaussian vector has a uniform direction.
                    v[i] = Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
                    norm += v[i] * v[i];
                }
            } while (norm == 0);
            norm = Math.Sqrt(norm);
            for (var i = 0; i < v.Length; i++) v[i] /= norm;
            return v;
        }
    }
}

/// <summary>
/// The search within one trainer's space, and what the choice among trainers needs to know of it: trials, best loss, time
/// spent, and the estimated cost for improvement (ECI).
/// </summary>
internal abstract class BranchSearch
{
    private double _firstLoss = double.NaN, _timeSpent, _timeAtBest, _lastCost;

    public int Trials { get; private set; }

    public double BestLoss { get; private set; } = double.PositiveInfinity;

    public double TimeSpent => _timeSpent;

    /// <summary>Whether the space has no untried point left (a space without options, once tried).</summary>
    public abstract bool Exhausted { get; }

    /// <summary>The next point (feature space), a flag the search keeps with it, and its parameter.</summary>
    public abstract (double[] Point, bool Mirror, Parameter Parameter) Next();

    /// <summary>A uniform random point not tried yet, for a tuner that interleaves random trials (by default <see cref="Next"/>).</summary>
    public virtual (double[] Point, bool Mirror, Parameter Parameter) NextRandom() => Next();

    /// <summary>Records a trial of this search (failed and cancelled trials have an infinite loss).</summary>
    public void Record(double[] point, bool mirror, double loss, double seconds)
    {
        Trials++;
        _timeSpent += seconds;
        _lastCost = seconds;
        if (double.IsNaN(_firstLoss) && double.IsFinite(loss)) _firstLoss = loss;
        if (loss < BestLoss)
        {
            BestLoss = loss;
            _timeAtBest = _timeSpent;
        }
        Learn(point, mirror, loss);
    }

    /// <summary>What the search itself learns from a trial.</summary>
    protected abstract void Learn(double[] point, bool mirror, double loss);

    /// <summary>ECI: see <see cref="CostFrugalTuner"/>'s remarks.</summary>
    public double CostForImprovement(double globalBest, double averageTime)
    {
        var cap = 4 * Math.Max(Math.Max(_timeSpent, averageTime), 1e-6);
        var sinceImprovement = _timeSpent - _timeAtBest;
        var gap = BestLoss - globalBest;
        var rate = double.IsFinite(_firstLoss) && double.IsFinite(BestLoss) ? (_firstLoss - BestLoss) / Math.Max(_timeSpent, 1e-6) : 0;
        var toClose = gap <= 0 ? 0 : rate > 0 ? gap / rate : double.PositiveInfinity;
        return Math.Clamp(Math.Max(Math.Max(_lastCost, sinceImprovement), toClose), 1e-6, cap);
    }
}

/// <summary>
/// One search per trainer of a <see cref="BranchSearchSpace"/> (or one for a plain space) and the choice among them by
/// estimated cost for improvement: every trainer once, in pipeline order, then drawn with probability proportional to 1 / ECI.
/// Shared by the cost-frugal and the SMAC tuner, which differ only in the search within a trainer. With a random fraction
/// p &gt; 0, each later trial is, with probability p, a uniform random point of the whole space instead: a trainer drawn
/// uniformly, then <see cref="BranchSearch.NextRandom"/> (SMAC's interleaved random configurations).
/// </summary>
internal sealed class TrainerChoice
{
    private readonly Random _random;
    private readonly double _randomFraction;
    private readonly List<(string? Name, BranchSearch Search)> _branches;
    private readonly Dictionary<int, (int Branch, double[] Point, bool Mirror)> _pending = [];
    private readonly object _gate = new();

    public TrainerChoice(OptionBase space, int seed, Func<SearchSpace, Random, BranchSearch> search, string tunerName, double randomFraction = 0)
    {
        _random = new Random(seed);
        _randomFraction = randomFraction;
        _branches = space switch
        {
            BranchSearchSpace branches => [.. branches.Branches.Select(b => ((string?)b.Key, search(b.Value, _random)))],
            SearchSpace plain => [(null, search(plain, _random))],
            _ => throw new ArgumentException($"The {tunerName} tuner searches a SearchSpace or a BranchSearchSpace, not {space.GetType().Name}.", nameof(space)),
        };
    }

    public Parameter? Propose(TrialSettings settings)
    {
        lock (_gate)
        {
            var open = Enumerable.Range(0, _branches.Count).Where(i => !_branches[i].Search.Exhausted).ToList();
            if (open.Count == 0) return null;
            // Draws only when interleaving, so that a tuner without it keeps its sequence of trials.
            var random = _randomFraction > 0 && open.All(i => _branches[i].Search.Trials > 0) && _random.NextDouble() < _randomFraction;
            var branch = random ? open[_random.Next(open.Count)] : ChooseBranch(open);
            var (name, search) = _branches[branch];
            var (point, mirror, parameter) = random ? search.NextRandom() : search.Next();
            _pending[settings.TrialId] = (branch, point, mirror);
            return name is null ? parameter : BranchSearchSpace.Point(name, parameter);
        }
    }

    public void Update(TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        lock (_gate)
        {
            if (!_pending.Remove(result.TrialSettings.TrialId, out var trial)) return;
            _branches[trial.Branch].Search.Record(trial.Point, trial.Mirror, result.Loss, result.DurationInMilliseconds / 1000);
        }
    }

    private int ChooseBranch(List<int> open)
    {
        if (open.FirstOrDefault(i => _branches[i].Search.Trials == 0, -1) is var untried and >= 0) return untried;
        if (open.Count == 1) return open[0];
        var best = open.Min(i => _branches[i].Search.BestLoss);
        var averageTime = open.Average(i => _branches[i].Search.TimeSpent);
        var weights = open.Select(i => 1 / _branches[i].Search.CostForImprovement(best, averageTime)).ToArray();
        var draw = _random.NextDouble() * weights.Sum();
        for (var k = 0; k < open.Count; k++)
        {
            draw -= weights[k];
            if (draw <= 0) return open[k];
        }
        return open[^1];
    }
}
