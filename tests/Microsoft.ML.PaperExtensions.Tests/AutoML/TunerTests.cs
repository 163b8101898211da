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

    [TestMethod]
    public async Task The_same_seed_gives_the_same_trials()
    {
        foreach (var make in new Func<int, ITuner>[] { s => new CostFrugalTuner(Box(), s), s => new RandomSearchTuner(Box(), s) })
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
