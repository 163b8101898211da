namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// Model-based search after SMAC (Hutter, Hoos, Leyton-Brown, LION 2011), as Microsoft.ML.AutoML's <c>SmacTuner</c>: a random
/// forest fitted to the trials so far predicts the loss and its uncertainty anywhere in the feature space, and the next trial
/// is the candidate of largest expected improvement (EI). Suited to spaces of choices, where a forest's splits isolate the
/// values that matter and the good region may lie far from the initial values; over a pipeline's trainers, one such search
/// per trainer and the same choice among them by estimated cost for improvement (ECI) as <see cref="CostFrugalTuner"/>.
/// </summary>
/// <remarks>
/// <para>Within a trainer: the first trial is the options' initial values (the defaults), the next ones are uniform random
/// points until <c>initialTrials</c> have been proposed (by default d + 1 with d the dimension, between 4 and 10). Then each
/// proposal fits a forest of 10 trees (bootstrap samples, 5/6 of the features per split, leaves of one row) to every trial
/// so far, points taken in the feature space with each choice at the centre of its interval (failed trials count as the worst
/// loss seen), and scores candidates by EI = (b - m) Phi(z) + s phi(z), z = (b - m) / s, with b the best loss, m the forest's
/// mean and s the spread between its trees. Candidates: 500 uniform random points, and a hill climb on EI from each of the 5
/// best trials, whose neighbours are every other value of one choice, or one numeric coordinate moved by a Gaussian step
/// (standard deviation 0.2 or 0.05, two of each). The best candidate not yet tried is proposed; ties go to the earlier
/// candidate (the random points come after the climbs, so the model's local picks win ties).</para>
/// <para>Interleaved random trials (SMAC's random configurations): once every trainer has had a trial, each trial is, with
/// probability <c>randomFraction</c>, a uniform random point of the whole space, its trainer drawn uniformly too, instead of
/// the model's choice. It keeps the search from spending the whole budget where the forest is sure, and it gives an
/// ensemble built from the trials (<see cref="AutoMLExperiment.SetEnsemble"/>) different members to average.</para>
/// <para>A space of choices and integers only is finite: the search ends (proposes nothing more for that trainer) once every
/// point was tried. Seeded, so the same seed and the same results give the same trials.</para>
/// </remarks>
public sealed class SmacTuner : ITuner
{
    private readonly TrainerChoice _choice;

    /// <summary>Creates the tuner on a search space, or on a <see cref="BranchSearchSpace"/> of trainers.</summary>
    /// <param name="space">The space searched.</param>
    /// <param name="seed">Seeds the random points, the forests and the choice among trainers.</param>
    /// <param name="initialTrials">Trials of each trainer before the model guides the search (its defaults, then random
    /// points); null for d + 1 (d the trainer's dimension) between 4 and 10.</param>
    /// <param name="randomFraction">The probability that a trial, once every trainer has had one, is a uniform random point of
    /// the whole space (trainer included) rather than the model's choice: SMAC's interleaved random configurations.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="initialTrials"/> is below 1, or
    /// <paramref name="randomFraction"/> is outside [0, 1].</exception>
    public SmacTuner(OptionBase space, int seed = 0, int? initialTrials = null, double randomFraction = DefaultRandomFraction)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (initialTrials is < 1) throw new ArgumentOutOfRangeException(nameof(initialTrials), initialTrials, "At least one initial trial (the defaults) is needed.");
        _choice = new TrainerChoice(space, seed, (branch, random) => new ModelSearch(branch, random, initialTrials), "SMAC", CheckRandomFraction(randomFraction));
    }

    /// <summary>The fraction, or an error naming it when it is outside [0, 1] (NaN included).</summary>
    internal static double CheckRandomFraction(double randomFraction) => randomFraction is >= 0 and <= 1
        ? randomFraction
        : throw new ArgumentOutOfRangeException(nameof(randomFraction), randomFraction, $"randomFraction, the fraction of random trials, must lie in [0, 1], but is {randomFraction}.");

    /// <summary>The default probability of an interleaved random trial.</summary>
    public const double DefaultRandomFraction = 0;

    /// <inheritdoc />
    public Parameter? Propose(TrialSettings settings) => _choice.Propose(settings);

    /// <inheritdoc />
    public void Update(TrialResult result) => _choice.Update(result);

    /// <summary>SMAC on one search space.</summary>
    private sealed class ModelSearch : BranchSearch
    {
        private const int Trees = 10, RandomCandidates = 500, ClimbStarts = 5, ClimbSteps = 20, MaxRandomDraws = 1000;
        private static readonly double[] NumericSteps = [0.2, 0.05, 0.02, 0.005];
        private readonly SearchSpace _space;
        private readonly Random _random;
        private readonly int _dimension, _initialTrials;
        private readonly int[] _levels;
        private readonly double _size;
        private readonly HashSet<Parameter> _tried = [];
        private readonly List<(double[] Point, double Loss)> _history = [];

        public ModelSearch(SearchSpace space, Random random, int? initialTrials)
        {
            _space = space;
            _random = random;
            _dimension = space.FeatureSpaceDimension;
            _initialTrials = initialTrials ?? Math.Clamp(_dimension + 1, 4, 10);
            var levels = new List<int>();
            var size = 1.0;
            Describe(space, levels, ref size);
            _levels = [.. levels];
            _size = size;
        }

        /// <summary>Per coordinate, the number of values of a choice (0 for a numeric range); and how many points the space has.</summary>
        private static void Describe(OptionBase option, List<int> levels, ref double size)
        {
            switch (option)
            {
                case SearchSpace space:
                    foreach (var (_, inner) in space) Describe(inner, levels, ref size);
                    break;
                case ChoiceOption choice:
                    levels.Add(choice.Values.Count);
                    size *= choice.Values.Count;
                    break;
                case UniformIntOption integer:
                    levels.Add(0);
                    size *= (double)integer.Max - integer.Min + 1;
                    break;
                default:
                    for (var i = 0; i < option.FeatureSpaceDimension; i++) levels.Add(0);
                    size = double.PositiveInfinity;
                    break;
            }
        }

        public override bool Exhausted => _tried.Count >= _size;

        public override (double[] Point, bool Mirror, Parameter Parameter) Next()
        {
            if (_tried.Count == 0)
            {
                _tried.Add(_space.DefaultParameter);
                return (_space.MappingToFeatureSpace(_space.DefaultParameter), false, _space.DefaultParameter);
            }
            var proposal = _tried.Count >= _initialTrials && _history.Any(h => double.IsFinite(h.Loss)) ? Suggest() : null;
            return proposal is null ? NextRandom() : Propose(proposal);
        }

        public override (double[] Point, bool Mirror, Parameter Parameter) NextRandom()
        {
            double[]? proposal = null;
            for (var draw = 0; draw < MaxRandomDraws && proposal is null; draw++)
            {
                var point = Canonical(RandomPoint());
                if (!_tried.Contains(_space.Sample(point))) proposal = point;
            }
            // Every draw was a point already tried (a nearly exhausted finite space): run one again.
            return Propose(proposal ?? Canonical(RandomPoint()));
        }

        private (double[] Point, bool Mirror, Parameter Parameter) Propose(double[] point)
        {
            var parameter = _space.Sample(point);
            _tried.Add(parameter);
            return (point, false, parameter);
        }

        protected override void Learn(double[] point, bool mirror, double loss) => _history.Add((point, loss));

        /// <summary>The untried candidate of largest expected improvement, or null when every candidate was tried.</summary>
        private double[]? Suggest()
        {
            var worst = _history.Where(h => double.IsFinite(h.Loss)).Max(h => h.Loss);
            var raw = _history.Select(h => double.IsFinite(h.Loss) ? h.Loss : worst).ToList();
            var low = raw.Min();
            var spread = Math.Max(worst - low, 1e-12);
            var targets = raw.Select(l => Math.Log((l - low) / spread + 0.1)).ToList();
            var forest = RandomForestRegressor.Fit([.. _history.Select(h => h.Point)], targets, Trees, 5.0 / 6, 1, _random);
            var best = targets.Min();
            double Score(double[] point)
            {
                var (mean, variance) = forest.Predict(point);
                return ExpectedImprovement(best, mean, Math.Sqrt(variance));
            }

            var candidates = new List<(double[] Point, double Score)>();
            var starts = _history.Select((h, i) => (h.Point, Loss: targets[i])).OrderBy(h => h.Loss).Take(ClimbStarts);
            foreach (var (start, _) in starts)
            {
                var (current, currentScore) = (start, Score(start));
                for (var step = 0; step < ClimbSteps; step++)
                {
                    var (next, nextScore) = (current, currentScore);
                    foreach (var neighbour in Neighbours(current))
                    {
                        var score = Score(neighbour);
                        candidates.Add((neighbour, score));
                        if (score > nextScore) (next, nextScore) = (neighbour, score);
                    }
                    if (ReferenceEquals(next, current)) break;
                    (current, currentScore) = (next, nextScore);
                }
            }
            for (var i = 0; i < RandomCandidates; i++)
            {
                var point = Canonical(RandomPoint());
                candidates.Add((point, Score(point)));
            }
            // A stable sort: among equal scores the earlier candidate wins.
            foreach (var (point, _) in candidates.OrderByDescending(c => c.Score))
            {
                if (!_tried.Contains(_space.Sample(point))) return point;
            }
            return null;
        }

        private IEnumerable<double[]> Neighbours(double[] point)
        {
            for (var i = 0; i < _dimension; i++)
            {
                if (_levels[i] > 0)
                {
                    var current = Math.Min(_levels[i] - 1, (int)(point[i] * _levels[i]));
                    for (var j = 0; j < _levels[i]; j++)
                    {
                        if (j == current) continue;
                        var moved = (double[])point.Clone();
                        moved[i] = (j + 0.5) / _levels[i];
                        yield return moved;
                    }
                }
                else
                {
                    foreach (var sd in NumericSteps)
                    {
                        var moved = (double[])point.Clone();
                        moved[i] = Math.Clamp(point[i] + sd * Gaussian(), 0, 1);
                        yield return Canonical(moved);
                    }
                }
            }
        }

        /// <summary>The point of the parameter a point maps to: choices at their centres, integers at their values.</summary>
        private double[] Canonical(double[] point) => _space.MappingToFeatureSpace(_space.Sample(point));

        private double[] RandomPoint() => [.. Enumerable.Range(0, _dimension).Select(_ => _random.NextDouble())];

        private double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());

        /// <summary>E[max(best - Y, 0)] for Y normal with the given mean and deviation (a minimisation).</summary>
        internal static double ExpectedImprovement(double best, double mean, double deviation)
        {
            var gain = best - mean;
            if (!(deviation > 1e-12)) return Math.Max(gain, 0);
            var z = gain / deviation;
            return gain * NormalCdf(z) + deviation * Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);
        }

        /// <summary>Phi(z) by Abramowitz and Stegun 7.1.26 (error below 1.5e-7).</summary>
        private static double NormalCdf(double z)
        {
            var x = Math.Abs(z) / Math.Sqrt(2);
            var t = 1 / (1 + 0.3275911 * x);
            var erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
            return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
        }
    }
}
