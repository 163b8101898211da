using Microsoft.ML.PaperExtensions.AutoML;
using Microsoft.ML.PaperExtensions.Ordinal;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.PaperExtensions.Tests.AutoML;

// Inside a namespace under Microsoft.ML, the name SearchSpace would otherwise mean the namespace Microsoft.ML.SearchSpace.
using SearchSpace = Microsoft.ML.PaperExtensions.AutoML.SearchSpace;

[TestClass]
public sealed class SearchSpaceTests
{
    private sealed class Nested
    {
        [Range(1, 9, 3, false)]
        public int Depth { get; set; } = 3;
    }

    private sealed class Sample
    {
        [Range(1e-4, 1.0, 1e-2, true)]
        public double Rate { get; set; } = 1e-2;

        [Range(2, 64, 8, true)]
        public int Width { get; set; } = 8;

        [Range(-1.0, 1.0)]
        public double Shift { get; set; }

        [Choice(new object[] { "a", "b", "c" }, "b")]
        public string Kind { get; set; } = "b";

        [BooleanChoice(false)]
        public bool Flag { get; set; }

        [NestOption]
        public Nested Inner { get; set; } = new();

        public int NotSearched { get; set; } = 7;
    }

    [TestMethod]
    public void Attributes_of_an_options_class_become_the_space_with_keys_in_ordinal_order()
    {
        var space = SearchSpace.FromOptions<Sample>();

        CollectionAssert.AreEqual(new[] { "Flag", "Inner", "Kind", "Rate", "Shift", "Width" }, space.Keys.ToArray());
        Assert.AreEqual(6, space.FeatureSpaceDimension);
        var rate = (UniformDoubleOption)space["Rate"];
        Assert.AreEqual((1e-4, 1.0, true, (double?)1e-2), (rate.Min, rate.Max, rate.LogBase, rate.Init));
        var width = (UniformIntOption)space["Width"];
        Assert.AreEqual((2, 64, true, (int?)8), (width.Min, width.Max, width.LogBase, width.Init));
        CollectionAssert.AreEqual(new object[] { "a", "b", "c" }, ((ChoiceOption)space["Kind"]).Values.ToArray());
        Assert.AreEqual("{\"Flag\":false,\"Inner\":{\"Depth\":3},\"Kind\":\"b\",\"Rate\":0.01,\"Shift\":0,\"Width\":8}", space.DefaultParameter.ToString());
    }

    [TestMethod]
    public void Our_trainers_options_give_the_spaces_their_attributes_declare()
    {
        var presto = SearchSpace.FromOptions<PrestoTrainer.Options>();
        CollectionAssert.AreEqual(new[] { "ElasticNetMixing", "LambdaMinRatio", "NumberOfLambdas", "PenalizeFirstVector" }, presto.Keys.ToArray());
        var options = presto.DefaultParameter.AsType<PrestoTrainer.Options>();
        Assert.AreEqual((1.0, 0.01, 20, true), (options.ElasticNetMixing, options.LambdaMinRatio, options.NumberOfLambdas, options.PenalizeFirstVector));

        var wad = SearchSpace.FromOptions<WadTrainer.Options>();
        Assert.AreEqual(13, wad.Count);
        Assert.AreEqual((3, 50), (((UniformIntOption)wad["PropagationNeighbors"]).Min, ((UniformIntOption)wad["PropagationNeighbors"]).Max));
        Assert.AreEqual((0.05, 0.99), (((UniformDoubleOption)wad["PropagationAlpha"]).Min, ((UniformDoubleOption)wad["PropagationAlpha"]).Max));
        Assert.AreEqual(0.5, wad.DefaultParameter.AsType<WadTrainer.Options>().PropagationAlpha);
        Assert.IsTrue(((UniformDoubleOption)wad["TeacherLearningRate"]).LogBase);
    }

    [TestMethod]
    public void Samples_stay_in_bounds_follow_the_log_scale_and_take_only_the_choices()
    {
        var space = SearchSpace.FromOptions<Sample>();
        var random = new Random(5);
        var rates = new List<double>();
        var kinds = new Dictionary<string, int>();
        for (var i = 0; i < 4000; i++)
        {
            var point = Enumerable.Range(0, space.FeatureSpaceDimension).Select(_ => random.NextDouble()).ToArray();
            var p = space.Sample(point);
            var rate = (double)p["Rate"];
            var width = (int)p["Width"];
            var shift = (double)p["Shift"];
            var depth = (int)((Parameter)p["Inner"])["Depth"];
            Assert.IsTrue(rate is >= 1e-4 and <= 1.0 && width is >= 2 and <= 64 && shift is >= -1 and <= 1 && depth is >= 1 and <= 9, p.ToString());
            rates.Add(rate);
            kinds[(string)p["Kind"]] = kinds.GetValueOrDefault((string)p["Kind"]) + 1;
        }
        // Log-uniform on [1e-4, 1]: the median is the geometric mean 1e-2 and each decade holds a quarter of the draws.
        rates.Sort();
        Assert.AreEqual(-2, Math.Log10(rates[rates.Count / 2]), 0.1);
        Assert.AreEqual(0.25, rates.Count(r => r < 1e-3) / (double)rates.Count, 0.03);
        CollectionAssert.AreEquivalent(new[] { "a", "b", "c" }, kinds.Keys.ToArray());
        Assert.IsTrue(kinds.Values.All(n => Math.Abs(n - 4000 / 3.0) < 150), string.Join(", ", kinds));
    }

    [TestMethod]
    public void Integer_ranges_give_their_end_values_as_often_as_inner_ones()
    {
        var option = new UniformIntOption(1, 4);
        var counts = new int[5];
        for (var i = 0; i < 4000; i++) counts[(int)option.SampleFromFeatureSpace([(i + 0.5) / 4000])]++;
        CollectionAssert.AreEqual(new[] { 0, 1000, 1000, 1000, 1000 }, counts);
    }

    [TestMethod]
    public void Mapping_to_the_feature_space_inverts_sampling()
    {
        var space = SearchSpace.FromOptions<Sample>();
        var p = space.Sample([0.9, 0.3, 0.1, 0.25, 0.75, 0.6]);
        var back = space.Sample(space.MappingToFeatureSpace(p));
        foreach (var key in p.Keys)
        {
            if (p[key] is double value) Assert.AreEqual(value, (double)back[key], 1e-12 * Math.Abs(value), key);
            else Assert.AreEqual(p[key], back[key], key);
        }
        Assert.AreEqual(0.25, space.MappingToFeatureSpace(p)[3], 1e-12);
    }

    [TestMethod]
    public void Grid_enumerates_every_combination_exactly_once_with_the_end_points()
    {
        var space = new SearchSpace
        {
            ["A"] = new UniformDoubleOption(1, 100, logBase: true),
            ["B"] = new ChoiceOption("x", "y"),
            ["C"] = new UniformIntOption(1, 3),
        };
        var grid = space.Grid(3).Cast<Parameter>().ToList();

        Assert.AreEqual(3 * 2 * 3, grid.Count);
        Assert.AreEqual(grid.Count, grid.Distinct().Count());
        CollectionAssert.AreEquivalent(new[] { 1.0, 10.0, 100.0 }, grid.Select(p => Math.Round((double)p["A"], 9)).Distinct().ToArray());
        CollectionAssert.AreEquivalent(new object[] { 1, 2, 3 }, grid.Select(p => p["C"]).Distinct().ToArray());
    }

    [TestMethod]
    public void A_space_is_narrowed_and_extended_in_code()
    {
        var space = SearchSpace.FromOptions<PrestoTrainer.Options>();
        space["LambdaMinRatio"] = new UniformDoubleOption(0.05, 0.1);
        space.Remove("NumberOfLambdas");
        space["NumberOfFolds"] = new ChoiceOption(3, 10);

        var options = space.Sample([0.5, 0.5, 0.9, 0.2]).ApplyTo(new PrestoTrainer.Options { NumberOfLambdas = 7 });
        Assert.AreEqual(10, options.NumberOfFolds);
        Assert.AreEqual(7, options.NumberOfLambdas);
        Assert.IsTrue(options.LambdaMinRatio is >= 0.05 and <= 0.1);
    }

    [TestMethod]
    public void Bad_spaces_and_parameters_fail_with_the_name_and_value()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new UniformDoubleOption(0, 1, logBase: true));
        Assert.ThrowsExactly<ArgumentException>(() => new UniformDoubleOption(2, 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new UniformIntOption(1, 5, init: 9));
        Assert.ThrowsExactly<ArgumentException>(() => new ChoiceOption(["a", "a"]));
        var unknown = Assert.ThrowsExactly<ArgumentException>(() => new Parameter([KeyValuePair.Create("Lamda", (object)0.1)]).AsType<PrestoTrainer.Options>());
        StringAssert.Contains(unknown.Message, "'Lamda'");
        var wrong = Assert.ThrowsExactly<ArgumentException>(() => new Parameter([KeyValuePair.Create("NumberOfLambdas", (object)2.5)]).AsType<PrestoTrainer.Options>());
        StringAssert.Contains(wrong.Message, "NumberOfLambdas");
        var missing = Assert.ThrowsExactly<KeyNotFoundException>(() => SearchSpace.FromOptions<PrestoTrainer.Options>()["Lambda"]);
        StringAssert.Contains(missing.Message, "LambdaMinRatio");
    }

    [TestMethod]
    public void A_branch_space_samples_one_trainer_with_its_own_options()
    {
        var space = new BranchSearchSpace([
            KeyValuePair.Create("Small", new SearchSpace { ["X"] = new UniformDoubleOption(0, 1) }),
            KeyValuePair.Create("Large", SearchSpace.FromOptions<Sample>()),
        ]);
        Assert.AreEqual(7, space.FeatureSpaceDimension);
        var p = (Parameter)space.SampleFromFeatureSpace([0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
        var (name, _, options) = space.Split(p);
        Assert.AreEqual("Large", name);
        Assert.AreEqual(6, options.Count);
        // The grid alternates between branches, so that a budget cut short has seen both.
        var grid = space.Grid(2).Cast<Parameter>().Take(4).Select(g => (string)g[BranchSearchSpace.BranchKey]).ToArray();
        CollectionAssert.AreEqual(new[] { "Small", "Large", "Small", "Large" }, grid);
        Assert.AreEqual(2 + 2 * 2 * 3 * 2 * 2 * 2, space.Grid(2).Count());
    }
}
