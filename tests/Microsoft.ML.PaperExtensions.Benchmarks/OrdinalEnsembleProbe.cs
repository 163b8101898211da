using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.AutoML;
using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.Trainers;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// <c>./build.sh bench ordinal-ensemble [seeds]</c>: would averaging several ordinal models beat PRESTO's defaults on soup.csv,
/// where no single model chosen by cross-validation does (docs/benchmarks.md, "AutoML", "An ensemble probe")? Same splits as
/// automl-quality's ordinal task (70 % search rows, 30 % test rows, seed + 1000). A fixed library of seven models (PRESTO's and
/// proportional odds' defaults, L-BFGS maximum entropy at three penalties, SDCA, a small LightGBM) is scored by 3-fold
/// cross-validation on the search rows; Caruana et al.'s ensemble selection (greedy, with replacement, from the best single
/// model, up to 20 additions, while the out-of-fold Brier score falls) chooses weights on the out-of-fold probabilities; the
/// members are refitted on all search rows and the weighted mean of their probabilities is scored on the test rows. CSV on
/// standard output: PRESTO's test Brier, the best single model by cross-validation and its test Brier, the ensemble's test
/// Brier and members, and every model's test Brier. A probe, not part of the AutoML engine.
/// </summary>
internal static class OrdinalEnsembleProbe
{
    public static void Run((int First, int Last) seeds)
    {
        Console.WriteLine("seed,presto,bestSingleByCv,bestSingleTest,ensembleTest,ensembleMembers,testBrierPrestoPoLbfgs1Lbfgs10Lbfgs01SdcaLightGbm");
        for (var seed = seeds.First; seed <= seeds.Last; seed++)
        {
            var ml = new MLContext(seed);
            var data = SoupFeatures.Load(ml, Path.Combine(AppContext.BaseDirectory, "data", "soup.csv"));
            var toKey = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(data);
            data = ml.Data.Cache(toKey.Transform(data));
            var (train, test) = AutoMLQuality.Holdout(data, seed);
            train = ml.Data.Cache(train);
            var library = new (string Name, Func<IEstimator<ITransformer>> Make)[]
            {
                ("presto", () => ml.Ordinal().Trainers.Presto(new Ordinal.PrestoTrainer.Options { Seed = seed })),
                ("po", () => ml.Ordinal().Trainers.ProportionalOdds(new Ordinal.ProportionalOddsTrainer.Options())),
                ("lbfgs1", () => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { L1Regularization = 1, L2Regularization = 1 })),
                ("lbfgs10", () => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { L1Regularization = 10, L2Regularization = 10 })),
                ("lbfgs01", () => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { L1Regularization = 0.1f, L2Regularization = 0.1f })),
                ("sdca", () => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options { L2Regularization = 0.1f })),
                ("lgbm-small", () => ml.MulticlassClassification.Trainers.LightGbm(new Microsoft.ML.Trainers.LightGbm.LightGbmMulticlassTrainer.Options { NumberOfLeaves = 4, NumberOfIterations = 50, LearningRate = 0.05, MinimumExampleCountPerLeaf = 20 })),
            };
            var folds = DatasetSplit.CrossValidation(train, 3, seed).Folds;
            int[] L(IDataView v) => v.GetColumn<uint>("Label").Select(l => (int)l - 1).ToArray();
            // Row-major n x 6 probabilities, as ProbabilityMetrics takes them.
            double[] S(IDataView v) => v.GetColumn<VBuffer<float>>("Score").SelectMany(b => b.DenseValues().Select(x => (double)x)).ToArray();
            var oofLabels = folds.SelectMany(f => L(f.Validation)).ToArray();
            var oof = library.Select(m => folds.SelectMany(f => S(m.Make().Fit(f.Train).Transform(f.Validation))).ToArray()).ToArray();
            var testScores = library.Select(m => S(m.Make().Fit(train).Transform(test))).ToArray();
            var testLabels = L(test);
            static double Brier(double[] p, int[] y) => ProbabilityMetrics.BrierScore(p, y, 6);
            static double[] Blend(double[][] scores, int[] counts)
            {
                var total = counts.Sum();
                return Enumerable.Range(0, scores[0].Length).Select(j => Enumerable.Range(0, counts.Length).Sum(m => counts[m] * scores[m][j]) / total).ToArray();
            }
            var oofBrier = oof.Select(o => Brier(o, oofLabels)).ToArray();
            var best = Array.IndexOf(oofBrier, oofBrier.Min());
            var counts = new int[library.Length];
            counts[best] = 1;
            for (var step = 0; step < 20; step++)
            {
                var candidates = Enumerable.Range(0, library.Length).Select(m => { var c = (int[])counts.Clone(); c[m]++; return (m, b: Brier(Blend(oof, c), oofLabels)); }).ToArray();
                var pick = candidates.MinBy(x => x.b);
                if (pick.b >= Brier(Blend(oof, counts), oofLabels)) break;
                counts[pick.m]++;
            }
            Console.WriteLine(string.Join(',', seed.ToString(CultureInfo.InvariantCulture), Brier(testScores[0], testLabels).ToString("F4", CultureInfo.InvariantCulture),
                library[best].Name, Brier(testScores[best], testLabels).ToString("F4", CultureInfo.InvariantCulture), Brier(Blend(testScores, counts), testLabels).ToString("F4", CultureInfo.InvariantCulture),
                string.Join(' ', counts.Select((c, m) => c > 0 ? $"{library[m].Name}:{c}" : null).Where(s => s is not null)),
                string.Join(' ', testScores.Select(t => Brier(t, testLabels).ToString("F4", CultureInfo.InvariantCulture)))));
        }
    }
}
