using Microsoft.ML.PaperExtensions.AutoML;

namespace Microsoft.ML.PaperExtensions.Tests.AutoML;

// Inside a namespace under Microsoft.ML, the name SearchSpace would otherwise mean the namespace Microsoft.ML.SearchSpace.
using SearchSpace = Microsoft.ML.PaperExtensions.AutoML.SearchSpace;

/// <summary>A trial runner that scores a parameter by a function (no model), optionally taking time and throwing.</summary>
internal sealed class FunctionRunner(Func<Parameter, double> loss, TimeSpan? duration = null) : ITrialRunner
{
    public async Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken)
    {
        if (duration is { } wait) await Task.Delay(wait, cancellationToken);
        var value = loss(settings.Parameter);
        return new TrialResult { TrialSettings = settings, Status = TrialStatus.Completed, Metric = value, Loss = value, FoldMetrics = [value] };
    }
}

[TestClass]
public sealed class TunerTests
{
    private static readonly double[] Minimum = [1.3, -2.1, 0.7, 3.2];

    /// <summary>Four reals in [-5, 5] (starting at 0); the loss is the squared distance to <see cref="Minimum"/>.</summary>
    private static SearchSpace Box() => new(Enumerable.Range(0, 4).Select(i => KeyValuePair.Create($"x{i}", (OptionBase)new UniformDoubleOption(-5, 5, init: 0))));

    private static double Quadratic(Parameter p) => Enumerable.Range(0, 4).Sum(i => Math.Pow((double)p[$"x{i}"] - Minimum[i], 2));

    private static async Task<double> BestLoss(ITuner tuner, int trials)
    {
        var experiment = new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(tuner).SetTrialRunner(new FunctionRunner(Quadratic)).SetMaxModelToExplore(trials);
        return (await experiment.RunAsync()).Loss;
    }

    [TestMethod]
    public async Task Cost_frugal_search_finds_the_minimum_of_a_quadratic_where_random_search_at_the_same_budget_does_not()
    {
        // 120 trials in [-5, 5]^4. Random search's best squared distance is about 2 at this budget (a ball of radius 1.4
        // holds 1/120 of the box); the local search walks to the minimum.
        var seeds = Enumerable.Range(1, 5).ToArray();
        var frugal = new List<double>();
        var random = new List<double>();
        foreach (var seed in seeds)
        {
            frugal.Add(await BestLoss(new CostFrugalTuner(Box(), seed), 120));
            random.Add(await BestLoss(new RandomSearchTuner(Box(), seed), 120));
        }
        Assert.IsTrue(frugal.All(l => l < 0.05), "cost-frugal: " + string.Join(", ", frugal));
        Assert.IsTrue(random.All(l => l > 0.2), "random: " + string.Join(", ", random));
    }

    [TestMethod]
    public async Task Cost_frugal_search_also_walks_spaces_of_choices()
    {
        // Six choices of four values (4,096 points); the loss is the distance of the chosen indices to a target. Moves too
        // small to change a choice widen the step instead of ending the search.
        int[] target = [3, 0, 2, 1, 3, 2];
        var space = new SearchSpace(Enumerable.Range(0, 6).Select(i => KeyValuePair.Create($"c{i}", (OptionBase)new ChoiceOption(0, 1, 2, 3))));
        double Distance(Parameter p) => Enumerable.Range(0, 6).Sum(i => Math.Abs((int)p[$"c{i}"] - target[i]));
        var frugal = new List<double>();
        var random = new List<double>();
        foreach (var seed in Enumerable.Range(1, 5))
        {
            var e1 = new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(new CostFrugalTuner(space, seed)).SetTrialRunner(new FunctionRunner(Distance)).SetMaxModelToExplore(60);
            frugal.Add((await e1.RunAsync()).Loss);
            var e2 = new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(new RandomSearchTuner(space, seed)).SetTrialRunner(new FunctionRunner(Distance)).SetMaxModelToExplore(60);
            random.Add((await e2.RunAsync()).Loss);
        }
        Console.WriteLine($"choices: cfo {string.Join(", ", frugal)}; random {string.Join(", ", random)}");
        Assert.IsTrue(frugal.Order().ElementAt(2) <= random.Order().ElementAt(2), $"cost-frugal {string.Join(", ", frugal)}; random {string.Join(", ", random)}");
        Assert.IsTrue(frugal.Max() <= 2, string.Join(", ", frugal));
    }

    private static readonly string[] PlacementNames = ["ph", "aft", "shape", "none"];
    private static readonly int[] PlacementTarget = [3, 2, 3, 1];

    /// <summary>Shaped like the survival search: a baseline of three values and four placements of four (768 points).</summary>
    private static SearchSpace Placements()
    {
        var space = new SearchSpace { ["Baseline"] = new ChoiceOption("free", "weibull", "burr") };
        for (var i = 0; i < 4; i++) space[$"Place{i}"] = new ChoiceOption([.. PlacementNames]);
        return space;
    }

    /// <summary>
    /// 0 only at Baseline = weibull with the placements none, shape, none, aft, far from the initial values (free, ph, ph, ph,
    /// ph: loss 1.4). Each wrong placement adds 0.25 when it is the initial one and 0.5 otherwise, so every single step from
    /// the start towards a wrong value is worse and most random points score 1.5 or more.
    /// </summary>
    private static double PlacementLoss(Parameter p)
    {
        var loss = (string)p["Baseline"] == "weibull" ? 0 : 0.4;
        for (var i = 0; i < 4; i++)
        {
            var placed = Array.IndexOf(PlacementNames, (string)p[$"Place{i}"]);
            loss += placed == PlacementTarget[i] ? 0 : placed == 0 ? 0.25 : 0.5;
        }
        return loss;
    }

    private static async Task<double> BestLoss(ITuner tuner, Func<Parameter, double> loss, int trials)
    {
        var experiment = new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(tuner).SetTrialRunner(new FunctionRunner(loss)).SetMaxModelToExplore(trials);
        return (await experiment.RunAsync()).Loss;
    }

    [TestMethod]
    public async Task Smac_finds_an_optimum_of_choices_far_from_the_start_where_random_and_cost_frugal_search_do_not()
    {
        // 40 trials of 768 points, seeds 1-9. Random search hits the single optimum with probability 40/768 per seed (about
        // 0.5 of 9 seeds expected); the local search starts in a basin. Measured when written: SMAC 8 of 9 (the other 0.25),
        // random 2 of 9 (median 0.5), cost-frugal 0 of 9 (0.5 to 0.75). With half of its trials random (as ordinal task
        // experiments search for an ensemble) SMAC reached it on 3 of 9 (median 0.25), still ahead of random search.
        var smac = new List<double>();
        var smacHalfRandom = new List<double>();
        var random = new List<double>();
        var frugal = new List<double>();
        foreach (var seed in Enumerable.Range(1, 9))
        {
            smac.Add(await BestLoss(new SmacTuner(Placements(), seed), PlacementLoss, 40));
            smacHalfRandom.Add(await BestLoss(new SmacTuner(Placements(), seed, randomFraction: 0.5), PlacementLoss, 40));
            random.Add(await BestLoss(new RandomSearchTuner(Placements(), seed), PlacementLoss, 40));
            frugal.Add(await BestLoss(new CostFrugalTuner(Placements(), seed), PlacementLoss, 40));
        }
        var message = $"smac {string.Join(", ", smac)}; half random {string.Join(", ", smacHalfRandom)}; random {string.Join(", ", random)}; cost-frugal {string.Join(", ", frugal)}";
        Assert.IsTrue(smac.Count(l => l == 0) >= 6, message);
        Assert.IsTrue(smacHalfRandom.Order().ElementAt(4) < random.Order().ElementAt(4), message);
        Assert.IsTrue(random.Count(l => l == 0) <= 3, message);
        Assert.AreEqual(0, smac.Order().ElementAt(4), message);
        Assert.IsTrue(random.Order().ElementAt(4) >= 0.25 && frugal.Order().ElementAt(4) >= 0.25, message);
    }

    [TestMethod]
    public async Task Smac_walks_the_quadratic_and_the_six_choices_better_than_random_search()
    {
        // Quadratic in [-5, 5]^4, 120 trials, seeds 1-5: measured 0.02-0.96 for SMAC (median 0.25; a forest is piecewise
        // constant, so it refines less finely than the local search's 0.05) against random search's 2.5-5 (median 3.7).
        // Six choices, 60 trials: SMAC reached the target (0) on every seed, random search's best is 2-3.
        var quadratic = new List<double>();
        var randomQuadratic = new List<double>();
        var choices = new List<double>();
        var randomChoices = new List<double>();
        int[] target = [3, 0, 2, 1, 3, 2];
        var six = new SearchSpace(Enumerable.Range(0, 6).Select(i => KeyValuePair.Create($"c{i}", (OptionBase)new ChoiceOption(0, 1, 2, 3))));
        double Distance(Parameter p) => Enumerable.Range(0, 6).Sum(i => Math.Abs((int)p[$"c{i}"] - target[i]));
        foreach (var seed in Enumerable.Range(1, 5))
        {
            quadratic.Add(await BestLoss(new SmacTuner(Box(), seed), Quadratic, 120));
            randomQuadratic.Add(await BestLoss(new RandomSearchTuner(Box(), seed), Quadratic, 120));
            choices.Add(await BestLoss(new SmacTuner(six, seed), Distance, 60));
            randomChoices.Add(await BestLoss(new RandomSearchTuner(six, seed), Distance, 60));
        }
        var message = $"quadratic {string.Join(", ", quadratic)}; random quadratic {string.Join(", ", randomQuadratic)}; choices {string.Join(", ", choices)}; random choices {string.Join(", ", randomChoices)}";
        Assert.IsTrue(quadratic.Order().ElementAt(2) < 0.5 && quadratic.Max() < 2, message);
        Assert.IsTrue(randomQuadratic.Order().ElementAt(2) > 2, message);
        Assert.IsTrue(choices.Count(l => l == 0) >= 4 && choices.Max() <= 1, message);
        Assert.IsTrue(randomChoices.Min() >= 1, message);
    }

    [TestMethod]
    public async Task Smac_starts_from_the_initial_values_and_stays_inside_the_bounds()
    {
        var space = new SearchSpace
        {
            ["a"] = new UniformDoubleOption(1e-3, 10, logBase: true, init: 0.5),
            ["b"] = new UniformIntOption(-3, 4, init: 2),
            ["c"] = new ChoiceOption("x", "y", "z"),
        };
        var experiment = new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(new SmacTuner(space, 4))
            .SetTrialRunner(new FunctionRunner(p => Math.Pow(Math.Log10((double)p["a"]) - 0.7, 2) + Math.Abs((int)p["b"] + 3) + ((string)p["c"] == "z" ? 0 : 1)))
            .SetMaxModelToExplore(60);
        var best = await experiment.RunAsync();
        var trials = experiment.Trials.OrderBy(t => t.TrialSettings.TrialId).Select(t => t.TrialSettings.Parameter).ToList();
        Assert.AreEqual("{\"a\":0.5,\"b\":2,\"c\":\"x\"}", trials[0].ToString());
        foreach (var p in trials)
        {
            Assert.IsTrue((double)p["a"] is >= 1e-3 and <= 10, p.ToString());
            Assert.IsTrue((int)p["b"] is >= -3 and <= 4, p.ToString());
            Assert.IsTrue((string)p["c"] is "x" or "y" or "z", p.ToString());
        }
        Assert.AreEqual(60, trials.Distinct().Count(), "no parameter is proposed twice while untried ones remain");
        Assert.AreEqual(-3, (int)best.TrialSettings.Parameter["b"], best.TrialSettings.Parameter.ToString());
        Assert.AreEqual("z", (string)best.TrialSettings.Parameter["c"], best.TrialSettings.Parameter.ToString());
    }

    [TestMethod]
    public async Task Smac_ends_a_finite_space_when_every_point_was_tried()
    {
        var space = new SearchSpace { ["a"] = new ChoiceOption(1, 2, 3), ["b"] = new UniformIntOption(0, 3) };
        var experiment = new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(new SmacTuner(space, 1))
            .SetTrialRunner(new FunctionRunner(p => (int)p["a"] * 10 + (int)p["b"])).SetMaxModelToExplore(100);
        var best = await experiment.RunAsync();
        Assert.AreEqual(12, experiment.Trials.Count);
        Assert.AreEqual(12, experiment.Trials.Select(t => t.TrialSettings.Parameter).Distinct().Count());
        Assert.AreEqual(10.0, best.Loss);
    }

    [TestMethod]
    public void Smac_spends_more_trials_on_the_trainer_that_wins()
    {
        var space = new BranchSearchSpace([KeyValuePair.Create("Poor", Box()), KeyValuePair.Create("Good", Box())]);
        var tuner = new SmacTuner(space, 2);
        var trainers = new List<string>();
        for (var id = 0; id < 60; id++)
        {
            var settings = new TrialSettings(id, tuner.Propose(new TrialSettings(id, Parameter.Empty))!);
            var (name, _, options) = space.Split(settings.Parameter);
            var loss = Quadratic(options) + (name == "Poor" ? 10 : 0);
            tuner.Update(new TrialResult { TrialSettings = settings, Status = TrialStatus.Completed, Metric = loss, Loss = loss, DurationInMilliseconds = 10 });
            trainers.Add(name);
        }
        Assert.AreEqual("Poor", trainers[0], "each trainer is tried once, in pipeline order, at its initial values");
        Assert.AreEqual("Good", trainers[1]);
        var good = trainers.Count(t => t == "Good");
        Assert.IsTrue(good > 40, $"{good} of 60 trials on the better trainer");
    }

    [TestMethod]
    public async Task Smac_interleaves_uniform_random_trials_with_its_random_fraction()
    {
        // All random (fraction 1): after each trainer's defaults the trainer is drawn uniformly, so the poor one keeps about
        // half of 200 trials (binomial SD 7), where the model-based choice gives it few; and within a trainer the search is
        // random search, which ends far from the quadratic's minimum in 120 trials (random search: 2.5 to 5 above).
        var space = new BranchSearchSpace([KeyValuePair.Create("Poor", Box()), KeyValuePair.Create("Good", Box())]);
        int PoorTrials(double fraction)
        {
            var tuner = new SmacTuner(space, 3, randomFraction: fraction);
            var poor = 0;
            for (var id = 0; id < 200; id++)
            {
                var settings = new TrialSettings(id, tuner.Propose(new TrialSettings(id, Parameter.Empty))!);
                var (name, _, options) = space.Split(settings.Parameter);
                var loss = Quadratic(options) + (name == "Poor" ? 10 : 0);
                tuner.Update(new TrialResult { TrialSettings = settings, Status = TrialStatus.Completed, Metric = loss, Loss = loss, DurationInMilliseconds = 10 });
                if (name == "Poor") poor++;
            }
            return poor;
        }
        var (allRandom, halfRandom, none) = (PoorTrials(1), PoorTrials(0.5), PoorTrials(0));
        Assert.IsTrue(allRandom is >= 80 and <= 120, $"{allRandom} of 200 on the poor trainer, all random");
        Assert.IsTrue(none < 30, $"{none} of 200 on the poor trainer, no random trials");
        // Half random: about 50 uniform draws land on it, plus what the model-based half gives it.
        Assert.IsTrue(halfRandom >= 40 && halfRandom > none + 20 && halfRandom < allRandom, $"{halfRandom} of 200 on the poor trainer, half random; {none} without, {allRandom} all random");
        var quadratic = new List<double>();
        foreach (var seed in Enumerable.Range(1, 3)) quadratic.Add(await BestLoss(new SmacTuner(Box(), seed, randomFraction: 1), Quadratic, 120));
        Assert.IsTrue(quadratic.Min() > 1, "all random: " + string.Join(", ", quadratic));
        var above = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new SmacTuner(Box(), randomFraction: 1.5));
        var nan = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext(1).PaperAutoML().CreateExperiment().SetSmacTuner(double.NaN));
        Assert.AreEqual(("randomFraction", "randomFraction"), (above.ParamName, nan.ParamName));
        StringAssert.Contains(above.Message, "must lie in [0, 1], but is 1.5");
    }

    [TestMethod]
    public async Task The_same_seed_gives_the_same_trials()
    {
        foreach (var make in new Func<int, ITuner>[] { s => new CostFrugalTuner(Box(), s), s => new RandomSearchTuner(Box(), s), s => new SmacTuner(Box(), s) })
        {
            async Task<string[]> Run(int seed)
            {
                var experiment = new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(make(seed)).SetTrialRunner(new FunctionRunner(Quadratic)).SetMaxModelToExplore(30);
                await experiment.RunAsync();
                return [.. experiment.Trials.Select(t => t.TrialSettings.Parameter.ToString())];
            }
            var first = await Run(7);
            CollectionAssert.AreEqual(first, await Run(7));
            CollectionAssert.AreNotEqual(first, await Run(8));
        }
    }

    [TestMethod]
    public async Task Cost_frugal_search_starts_from_the_initial_values()
    {
        var experiment = new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(new CostFrugalTuner(Box(), 3)).SetTrialRunner(new FunctionRunner(Quadratic)).SetMaxModelToExplore(1);
        await experiment.RunAsync();
        Assert.AreEqual("{\"x0\":0,\"x1\":0,\"x2\":0,\"x3\":0}", experiment.Trials[0].TrialSettings.Parameter.ToString());
    }

    [TestMethod]
    public void Cost_frugal_search_spends_more_trials_on_the_trainer_that_wins()
    {
        // Two branches of equal cost (10 ms a trial, fixed here so that the draw does not depend on the machine's timing):
        // "Good" reaches loss 0, "Poor" never goes below 10.
        var space = new BranchSearchSpace([KeyValuePair.Create("Poor", Box()), KeyValuePair.Create("Good", Box())]);
        var tuner = new CostFrugalTuner(space, 2);
        var trainers = new List<string>();
        for (var id = 0; id < 80; id++)
        {
            var settings = new TrialSettings(id, tuner.Propose(new TrialSettings(id, Parameter.Empty))!);
            var (name, _, options) = space.Split(settings.Parameter);
            var loss = Quadratic(options) + (name == "Poor" ? 10 : 0);
            tuner.Update(new TrialResult { TrialSettings = settings, Status = TrialStatus.Completed, Metric = loss, Loss = loss, DurationInMilliseconds = 10 });
            trainers.Add(name);
        }
        Assert.AreEqual("Poor", trainers[0], "each trainer is tried once, in pipeline order");
        Assert.AreEqual("Good", trainers[1]);
        var good = trainers.Count(t => t == "Good");
        Assert.IsTrue(good > 55, $"{good} of 80 trials on the better trainer");
    }

    [TestMethod]
    public async Task Grid_search_ends_the_experiment_when_the_grid_is_done()
    {
        var space = new SearchSpace { ["a"] = new ChoiceOption(1, 2, 3), ["b"] = new UniformDoubleOption(0, 1) };
        var experiment = new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(new GridSearchTuner(space, steps: 2))
            .SetTrialRunner(new FunctionRunner(p => (int)p["a"] + (double)p["b"]));
        var best = await experiment.RunAsync();
        Assert.AreEqual(6, experiment.Trials.Count);
        Assert.AreEqual(6, experiment.Trials.Select(t => t.TrialSettings.Parameter).Distinct().Count());
        Assert.AreEqual(1.0, best.Loss);
    }
}
