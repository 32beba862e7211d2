"""The sampler, the output table and the scoring helpers, on small inputs."""

import importlib.util
import sys
import unittest
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def load_run_inference() -> ModuleType:
    # run_inference.py is a script, not a package, so load it by path.
    spec = importlib.util.spec_from_file_location("run_inference", ROOT / "run_inference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is being built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ri = load_run_inference()
HYPER = {"activity": 1.0, "intensity": 1.0, "trend": 0.0, "sigma": 0.9, "horizon_spread": 0.01}


class SampleTest(unittest.TestCase):
    def test_draws_are_non_negative_with_one_row_per_step_and_country(self) -> None:
        draws = ri.sample(HYPER, np.random.default_rng(1))
        self.assertEqual(draws.shape, (ri.STEPS, ri.MAX_COUNTRY_ID, ri.N_DRAWS))
        self.assertGreaterEqual(float(draws.min()), 0.0)

    def test_the_same_seed_gives_the_same_draws(self) -> None:
        first = ri.sample(HYPER, np.random.default_rng(7))
        second = ri.sample(HYPER, np.random.default_rng(7))
        np.testing.assert_array_equal(first, second)


class PredictionsTableTest(unittest.TestCase):
    def test_it_has_one_row_per_month_and_country(self) -> None:
        model = ri.Model("test_model", 1, "cm", ["lr_ged_sb"], "shadow", HYPER)
        countries = np.array([57, 120, 245], dtype=np.int32)
        table = ri.predictions_table(model, countries)
        self.assertEqual(table.num_rows, ri.STEPS * len(countries))
        self.assertEqual(set(table.column("country_id").to_pylist()), {57, 120, 245})

    def test_each_target_becomes_a_pred_column_of_draws(self) -> None:
        model = ri.Model("test_model", 1, "cm", ["lr_ged_sb"], "shadow", HYPER)
        table = ri.predictions_table(model, np.array([57], dtype=np.int32))
        self.assertEqual(len(table.column("pred_lr_ged_sb")[0]), ri.N_DRAWS)


class ScoreTest(unittest.TestCase):
    def test_crps_of_a_point_forecast_is_the_absolute_error(self) -> None:
        draws = np.full((1, 8), 3.0)
        outcomes = np.full((1, 8), 5.0)
        crps = ri.mean_cross_distance(draws, outcomes) - ri.mean_pairwise_distance(draws) / 2
        self.assertAlmostEqual(float(crps[0]), 2.0)

    def test_pairwise_distance_matches_the_direct_sum(self) -> None:
        sample = np.array([[0.0, 1.0, 4.0, 9.0]])
        direct = np.abs(sample[0][:, None] - sample[0][None, :]).mean()
        self.assertAlmostEqual(float(ri.mean_pairwise_distance(sample)[0]), float(direct))


if __name__ == "__main__":
    unittest.main()
