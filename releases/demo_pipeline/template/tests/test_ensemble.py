"""The ensemble weights form a distribution."""

import runpy
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class EnsembleWeightsTest(unittest.TestCase):
    def test_weights_are_non_negative_and_sum_to_one(self) -> None:
        weights = runpy.run_path(str(ROOT / "ensemble" / "config_ensemble.py"))["weights"]
        self.assertTrue(all(weight >= 0 for weight in weights.values()))
        self.assertAlmostEqual(sum(weights.values()), 1.0)


if __name__ == "__main__":
    unittest.main()
