"""Every model directory carries a complete and consistent configuration."""

import runpy
import unittest
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATUSES = {"deployed", "shadow", "baseline", "deprecated"}


def read_config(configs: Path, module: str) -> dict[str, Any]:
    return runpy.run_path(str(configs / f"{module}.py"))


class ModelConfigTest(unittest.TestCase):
    def setUp(self) -> None:
        self.model_configs = sorted(ROOT.glob("models/*/configs"))

    def test_there_are_models(self) -> None:
        self.assertTrue(self.model_configs)

    def test_each_model_is_named_after_its_directory(self) -> None:
        for configs in self.model_configs:
            with self.subTest(model=configs.parent.name):
                self.assertEqual(read_config(configs, "config_meta")["name"], configs.parent.name)

    def test_each_deployment_status_is_known(self) -> None:
        for configs in self.model_configs:
            with self.subTest(model=configs.parent.name):
                status = read_config(configs, "config_deployment")["deployment_status"]
                self.assertIn(status, STATUSES)

    def test_each_model_has_the_sampler_hyperparameters(self) -> None:
        needed = {"activity", "intensity", "trend", "sigma", "horizon_spread"}
        for configs in self.model_configs:
            with self.subTest(model=configs.parent.name):
                hyper = read_config(configs, "config_hyperparameters")["hyperparameters"]
                self.assertLessEqual(needed, set(hyper))

    def test_each_queryset_names_a_fatalities_feature_set(self) -> None:
        for configs in self.model_configs:
            with self.subTest(model=configs.parent.name):
                queryset = read_config(configs, "config_meta")["queryset"]
                self.assertRegex(str(queryset), r"^fatalities\d{3}_")


if __name__ == "__main__":
    unittest.main()
