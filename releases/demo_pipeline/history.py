"""The scripted history of the demo pipeline, from its first commit to today.

About six months of work: three releases promoted from development (v1.0.0, v1.1.0,
v1.2.0), a hotfix released from production as v1.2.1 and not back-ported, and unreleased
work on development that changes one model enough for the drift and performance checks
to notice. The facts after `write_history` follow from the story; keep them in step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from string import Template

from .scribe import Person, Scribe

TEMPLATE = Path(__file__).resolve().parent / "template"

MAJA = Person("Maja Lindqvist", "maja.lindqvist@views-pipeline.example")
TOMAS = Person("Tomás Okafor", "tomas.okafor@views-pipeline.example")
PRIYA = Person("Priya Raman", "priya.raman@views-pipeline.example")
JONAS = Person("Jonas Berg", "jonas.berg@views-pipeline.example")
AISHA = Person("Aisha Mensah", "aisha.mensah@views-pipeline.example")
AUTHORS = (MAJA, TOMAS, PRIYA, JONAS, AISHA)

PRODUCTION = "production"
DEVELOPMENT = "development"
LAVENDER_FEATURE = "feature/lavender-haze-model"
ENSEMBLE_FEATURE = "feature/ensemble-weights"
CONFLICT_FEATURE = "feature/new-conflict-features"
PRIOGRID_FEATURE = "feature/priogrid-draws"
CALIBRATION_FEATURE = "feature/orange-pasta-calibration"
TWEEDIE_EXPERIMENT = "experiment/tweedie-loss"
HOTFIX = "hotfix/fix-missing-countries"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    algorithm: str
    creator: str
    queryset: str
    status: str
    version: int
    hyperparameters: dict[str, float]
    description: str


def hyper(
    activity: float, intensity: float, sigma: float, horizon_spread: float, trend: float = 0.0
) -> dict[str, float]:
    return {
        "activity": activity,
        "intensity": intensity,
        "trend": trend,
        "sigma": sigma,
        "horizon_spread": horizon_spread,
    }


# The synthetic world run_inference.py scores against has activity 1, intensity 1,
# sigma 0.9 and horizon_spread 0.01; each model's distance from it sets its scores.
PURPLE_ALIEN = ModelSpec(
    name="purple_alien",
    algorithm="HurdleLognormal",
    creator=PRIYA.name,
    queryset="fatalities003_baseline_conflict",
    status="deployed",
    version=1,
    hyperparameters=hyper(1.0, 0.95, 1.0, 0.01),
    description=(
        "Two-part hurdle model: a classifier for whether a country-month sees any\n"
        "state-based fatalities, and a log-normal regression for how many when it does."
    ),
)
ELECTRIC_RELAXATION = ModelSpec(
    name="electric_relaxation",
    algorithm="ConflictHistoryBaseline",
    creator=JONAS.name,
    queryset="fatalities003_conflict_history",
    status="baseline",
    version=1,
    hyperparameters=hyper(0.9, 0.9, 1.3, 0.0),
    description=(
        "Carries each country's recent conflict history forward unchanged. Every other\n"
        "model has to beat it to earn a place in the forecast."
    ),
)
ORANGE_PASTA = ModelSpec(
    name="orange_pasta",
    algorithm="HurdleXGBoost",
    creator=TOMAS.name,
    queryset="fatalities003_conflict_history",
    status="shadow",
    version=1,
    hyperparameters=hyper(1.0, 1.15, 0.8, 0.01),
    description="Gradient-boosted hurdle model on conflict-history and structural features.",
)
BLANK_SPACE = ModelSpec(
    name="blank_space",
    algorithm="RandomForestRegressor",
    creator=MAJA.name,
    queryset="fatalities003_structural",
    status="deployed",
    version=1,
    hyperparameters=hyper(0.85, 1.05, 1.1, 0.02, trend=0.02),
    description="Random forest on structural covariates: population, GDP, regime type.",
)
LAVENDER_HAZE = ModelSpec(
    name="lavender_haze",
    algorithm="HurdleLightGBM",
    creator=PRIYA.name,
    queryset="fatalities003_topics",
    status="shadow",
    version=1,
    hyperparameters=hyper(1.05, 0.97, 0.95, 0.012),
    description="LightGBM hurdle model that adds news-topic shares to the conflict history.",
)


@dataclass(frozen=True)
class Edit:
    path: str
    old: str
    new: str


def added_text(path: str, anchor: str, until: str | None = None) -> Edit:
    """The edit that inserted the template's text after `anchor`, up to `until` or the end."""
    text = (TEMPLATE / path).read_text(encoding="utf-8")
    start = text.index(anchor) + len(anchor)
    end = text.index(until, start) if until else len(text)
    return Edit(path, anchor, anchor + text[start:end])


# Template files are as they are on development today. The story adds each file in its
# first form, by rewinding these edits, and then makes them at their moment in history.
PRED_PREFIX = Edit("run_inference.py", "columns[target]", 'columns[f"pred_{target}"]')
MKDIR_PARENTS = Edit(
    "run_inference.py", "out.mkdir(exist_ok=True)", "out.mkdir(parents=True, exist_ok=True)"
)
NO_ACTIVE_MODEL_CHECK = added_text(
    "run_inference.py", "metrics.extend(backtest(model, outcomes))\n", '    (out / "metrics.json")'
)
RUN_SUMMARY = added_text(
    "run_inference.py",
    '"metrics.json").write_text(json.dumps(metrics, indent=1) + "\\n")\n',
    "\n\nif __name__",
)
ZSTD = Edit("run_inference.py", 'compression="snappy"', 'compression="zstd"')
PYARROW_BUMP = Edit("requirements.txt", "pyarrow==16.1.0", "pyarrow==17.0.0")
NUMPY_BUMP = Edit("requirements.txt", "numpy==2.0.1", "numpy==2.1.3")
# The regenerated list silently loses two countries; the v1.2.1 hotfix restores them.
DROP_TWO_COUNTRIES = Edit("data/country_ids.txt", "\n245\n246\n247\n248\n", "\n245\n248\n")
MODELS_SECTION = added_text("README.md", "semantic-version tag.\n", "\n## Deployment statuses")
STATUSES_SECTION = added_text("README.md", "what the model is for.\n")
QUERYSET_TEST = added_text("tests/test_model_configs.py", "set(hyper))\n", "\n\nif __name__")
ENSEMBLE_RENORMALISED = Edit(
    "ensemble/config_ensemble.py",
    '    "purple_alien": 0.45,\n    "orange_pasta": 0.35,\n    "blank_space": 0.20,\n',
    '    "purple_alien": 0.5625,\n    "orange_pasta": 0.4375,\n',
)
PRIOGRID_ARGUMENT = Edit(
    "run_inference.py",
    "    out = parser.parse_args().out\n",
    '    parser.add_argument("--level", choices=["cm", "pgm"], default="cm")\n'
    "    out = parser.parse_args().out\n",
)
LATER_EDITS = (
    PRED_PREFIX,
    MKDIR_PARENTS,
    PYARROW_BUMP,
    DROP_TWO_COUNTRIES,
    MODELS_SECTION,
    QUERYSET_TEST,
    NO_ACTIVE_MODEL_CHECK,
    RUN_SUMMARY,
    ZSTD,
    STATUSES_SECTION,
    ENSEMBLE_RENORMALISED,
    NUMPY_BUMP,
)


class PipelineScribe(Scribe):
    """A Scribe that knows the template's later edits and how a model directory looks."""

    def add(self, path: str) -> None:
        """Add a template file as it first looked: later edits rewound, newest first."""
        # Dot-files are stored without the dot so that they cannot act on the ewsdash
        # repository that holds the template.
        self.copy(path.removeprefix("."), path)
        for edit in reversed(LATER_EDITS):
            if edit.path == path:
                self.undo(edit)

    def change(self, edit: Edit) -> None:
        self.replace(edit.path, edit.old, edit.new)

    def undo(self, edit: Edit) -> None:
        self.replace(edit.path, edit.new, edit.old)

    def put_model(self, spec: ModelSpec) -> None:
        hyperparameters = "\n".join(
            f'    "{key}": {value!r},' for key, value in spec.hyperparameters.items()
        )
        values = {
            "name": spec.name,
            "algorithm": spec.algorithm,
            "creator": spec.creator,
            "queryset": spec.queryset,
            "status": spec.status,
            "version": str(spec.version),
            "description": spec.description,
            "hyperparameters": hyperparameters,
        }
        for source in sorted((self.template / "model").rglob("*.tmpl")):
            relative = source.relative_to(self.template / "model").with_suffix("")
            text = Template(source.read_text(encoding="utf-8")).substitute(values)
            self.write(f"models/{spec.name}/{relative}", text)


HOTFIX_SUBJECT = "fix(data): restore two countries dropped from the unit list"
DECAY_QUERYSET = "fatalities004_conflict_history_decay"
ORANGE_PASTA_DEPLOYED = replace(
    ORANGE_PASTA, status="deployed", version=2, hyperparameters=hyper(1.0, 1.1, 0.8, 0.01)
)
# Sharper than the data warrant: against v1.2.1's orange_pasta, MSE, MSLE and CRPS are
# better or within 0.5% at every step, but its 90% intervals cover 1.4-1.7% less often.
ORANGE_PASTA_DECAY = replace(
    ORANGE_PASTA_DEPLOYED,
    version=3,
    queryset=DECAY_QUERYSET,
    hyperparameters=hyper(1.0, 1.0, 0.7, 0.01),
)
# Retrained after v1.2.0 with a higher intensity: it forecasts about 10% more log-fatalities
# than the world has (backtest CRPS about 5% worse than v2's). Shipped with the v1.2.1
# hotfix, outside the gates; the realized outcomes show it within four months.
PURPLE_ALIEN_RETRAINED = replace(
    PURPLE_ALIEN, version=4, hyperparameters=hyper(1.0, 1.1, 0.9, 0.01)
)
# Widened again: within 1% of v1.2.1 on every metric and step, still a different forecast.
ORANGE_PASTA_CALIBRATED = replace(
    ORANGE_PASTA_DECAY, version=4, hyperparameters=hyper(1.0, 1.0, 0.9, 0.01)
)


def write_history(s: PipelineScribe) -> None:
    s.start_on(PRODUCTION)

    # Up to v1.0.0: the skeleton, the sampler, four models, tests and the manifest.
    s.add("README.md")
    s.add(".gitignore")
    s.commit(0.40, MAJA, "chore: initialise repository")
    s.switch(DEVELOPMENT, create_from=PRODUCTION)
    s.add("requirements.txt")
    s.commit(1.45, MAJA, "build: pin numpy and pyarrow")
    s.add("data/country_ids.txt")
    s.commit(3.60, TOMAS, "feat(data): add the country-month unit list")
    s.add("run_inference.py")
    s.commit(5.42, TOMAS, "feat(inference): sample posterior draws per country-month")
    s.put_model(PURPLE_ALIEN)
    s.commit(7.38, PRIYA, "feat(models): add purple_alien hurdle model")
    s.put_model(ELECTRIC_RELAXATION)
    s.commit(8.55, JONAS, "feat(models): add electric_relaxation baseline")
    s.change(PRED_PREFIX)
    s.commit(
        10.47,
        TOMAS,
        "feat(inference)!: name prediction columns pred_<target>\n\n"
        "Follows the VIEWS convention, so downstream tools can tell forecasts from\n"
        "observed targets.\n\n"
        "BREAKING CHANGE: the lr_ged_sb column of predictions_<model>.parquet is now\n"
        "pred_lr_ged_sb.",
    )
    s.put_model(ORANGE_PASTA)
    s.commit(11.63, TOMAS, "feat(models): add orange_pasta as a shadow model")
    s.put_model(BLANK_SPACE)
    s.commit(12.40, MAJA, "feat(models): add blank_space random forest")
    s.add("tests/test_model_configs.py")
    s.add("tests/test_forecast.py")
    s.commit(14.52, PRIYA, "test: cover model configs, the sampler and the scores")
    s.add("ewsdash.toml")
    s.commit(
        16.44,
        MAJA,
        "ci: declare the ewsdash validation manifest\n\n"
        "Promotions to production now need passing unit tests, a complete inference run\n"
        "and backtest scores no worse than production's.",
    )
    s.change(MODELS_SECTION)
    s.commit(17.58, JONAS, "docs: explain the model layout in the README")
    release(s, 18.60, "v1.0.0", "First operational release: purple_alien and blank_space deployed.")
    s.switch(DEVELOPMENT)
    s.fast_forward(PRODUCTION)

    # v1.1.0: lavender_haze joins in shadow, orange_pasta is deployed.
    s.switch(LAVENDER_FEATURE, create_from=DEVELOPMENT)
    s.put_model(LAVENDER_HAZE)
    s.commit(22.45, PRIYA, "feat(models): add lavender_haze shadow model")
    s.append("models/lavender_haze/README.md", LAVENDER_TOPICS)
    s.commit(24.60, PRIYA, "docs(models): describe the lavender_haze topic features")
    s.switch(DEVELOPMENT)
    s.change(MKDIR_PARENTS)
    s.commit(23.41, TOMAS, "fix(inference): create missing parent directories of --out")
    s.change(PYARROW_BUMP)
    s.commit(27.50, JONAS, "chore(deps): bump pyarrow to 17.0")
    s.merge(30.46, MAJA, LAVENDER_FEATURE)
    s.put_model(ORANGE_PASTA_DEPLOYED)
    s.commit(
        34.52,
        TOMAS,
        "feat(models): deploy orange_pasta after its shadow evaluation\n\n"
        "Retrained (version 2) with a lower intensity: in shadow it over-forecast the\n"
        "largest conflicts.",
    )
    s.put_model(replace(PURPLE_ALIEN, version=2, hyperparameters=hyper(1.0, 0.95, 0.9, 0.01)))
    s.commit(38.43, PRIYA, "fix(models): narrow purple_alien spread after calibration review")
    release(s, 41.55, "v1.1.0", "orange_pasta deployed; lavender_haze joins in shadow.")
    s.switch(DEVELOPMENT)
    s.add(".editorconfig")
    s.commit(42.40, JONAS, "chore: add an editorconfig")
    s.merge(43.48, MAJA, PRODUCTION)

    # v1.2.0: ensemble weights, blank_space deprecated, lavender_haze retrained.
    s.switch(ENSEMBLE_FEATURE, create_from=DEVELOPMENT)
    s.add("ensemble/config_ensemble.py")
    s.commit(46.50, AISHA, "feat(ensemble): weight deployed models by inverse CRPS")
    s.add("tests/test_ensemble.py")
    s.commit(49.44, AISHA, "test(ensemble): weights are non-negative and sum to one")
    s.switch(DEVELOPMENT)
    s.change(DROP_TWO_COUNTRIES)
    s.commit(50.42, TOMAS, "refactor(data): regenerate the country list from the country table")
    s.merge(55.47, MAJA, ENSEMBLE_FEATURE)
    s.switch(PRIOGRID_FEATURE, create_from=DEVELOPMENT)
    s.write("docs/priogrid.md", PRIOGRID_NOTE)
    s.commit(58.60, JONAS, "docs: sketch posterior draws at PRIO-GRID level")
    s.switch(DEVELOPMENT)
    s.put_model(replace(BLANK_SPACE, status="deprecated"))
    s.commit(62.45, PRIYA, "feat(models): deprecate blank_space in favour of lavender_haze")
    s.switch(PRIOGRID_FEATURE)
    s.change(PRIOGRID_ARGUMENT)
    s.commit(66.52, JONAS, "feat(inference): accept --level (pgm not wired up yet)")
    s.switch(DEVELOPMENT)
    s.put_model(replace(LAVENDER_HAZE, version=2, hyperparameters=hyper(1.05, 0.98, 0.92, 0.012)))
    s.commit(68.40, AISHA, "feat(models): retrain lavender_haze on the 2024 data update")
    s.switch(TWEEDIE_EXPERIMENT, create_from=DEVELOPMENT)
    tweedie = hyper(1.0, 0.95, 0.85, 0.01) | {"tweedie_power": 1.5}
    s.put_model(replace(PURPLE_ALIEN, version=3, hyperparameters=tweedie))
    s.commit(73.55, JONAS, "feat(models): try a Tweedie loss for purple_alien")
    s.switch(PRIOGRID_FEATURE)
    s.write("priogrid.py", PRIOGRID_STUB)
    s.commit(75.48, JONAS, "chore: outline the PRIO-GRID cell sampler")
    s.switch(DEVELOPMENT)
    s.add("docs/releasing.md")
    s.commit(76.44, TOMAS, "docs: add the release checklist")
    s.switch(TWEEDIE_EXPERIMENT)
    s.append("models/purple_alien/README.md", TWEEDIE_NOTE)
    s.commit(80.50, JONAS, "docs(models): record the Tweedie backtest so far")
    release(s, 82.52, "v1.2.0", "Ensemble weights, blank_space deprecated, lavender_haze v2.")
    s.switch(DEVELOPMENT)
    s.fast_forward(PRODUCTION)
    s.put_model(PURPLE_ALIEN_RETRAINED)
    s.commit(85.47, PRIYA, "feat(models): retrain purple_alien on the 2025 data update")

    # v1.2.1: the hotfix, released from production and never merged back. It also ships
    # development's purple_alien retrain, which no gate judged: its realized skill is worse
    # than v1.2.0's (the demo's realized-skill alert, monitoring/skill_demo.py).
    s.switch(HOTFIX, create_from=PRODUCTION)
    s.undo(DROP_TWO_COUNTRIES)
    s.put_model(PURPLE_ALIEN_RETRAINED)
    s.commit(
        90.42,
        TOMAS,
        f"{HOTFIX_SUBJECT}\n\n"
        "The list regenerated for v1.2.0 lost country ids 246 and 247, so they had no\n"
        "forecasts at all. Ships purple_alien's retrain from development with them.",
    )
    s.switch(PRODUCTION)
    s.merge(91.45, MAJA, HOTFIX)
    s.tag(91.47, MAJA, "v1.2.1", "v1.2.1\n\nHotfix: restore two countries missing from v1.2.0.")

    # Unreleased on development: new conflict features make orange_pasta sharper but
    # under-covering (the performance check's regression) and move its forecasts (drift).
    s.switch(CONFLICT_FEATURE, create_from=DEVELOPMENT)
    s.put_model(replace(ORANGE_PASTA_DEPLOYED, queryset=DECAY_QUERYSET))
    s.commit(95.50, TOMAS, "feat(features): add decaying conflict-history features")
    s.put_model(ORANGE_PASTA_DECAY)
    s.commit(100.45, TOMAS, "feat(models): retrain orange_pasta on the decay features")
    s.change(QUERYSET_TEST)
    s.commit(104.56, PRIYA, "test(models): querysets name a fatalities feature set")
    s.switch(DEVELOPMENT)
    s.change(NO_ACTIVE_MODEL_CHECK)
    s.commit(98.43, JONAS, "fix(inference): fail when no model is active")
    s.merge(108.50, MAJA, CONFLICT_FEATURE)
    s.change(RUN_SUMMARY)
    s.commit(115.47, AISHA, "feat(inference): write a run summary next to the predictions")
    s.change(ZSTD)
    s.commit(120.52, AISHA, "perf(inference): compress predictions with zstd")
    s.change(STATUSES_SECTION)
    s.commit(140.44, PRIYA, "docs(models): explain the deployment statuses")
    s.change(ENSEMBLE_RENORMALISED)
    s.commit(150.53, TOMAS, "fix(ensemble): drop deprecated blank_space from the weights")
    s.change(NUMPY_BUMP)
    s.commit(170.41, JONAS, "chore(deps): bump numpy to 2.1")

    s.switch(CALIBRATION_FEATURE, create_from=DEVELOPMENT)
    s.put_model(ORANGE_PASTA_CALIBRATED)
    s.commit(
        177.55,
        TOMAS,
        "fix(models): widen orange_pasta intervals to restore coverage\n\n"
        "The decay features made the model sharper than the data warrant: its 90%\n"
        "intervals covered about 1.5% less often than in the production release.",
    )


def release(s: PipelineScribe, day: float, version: str, summary: str) -> None:
    s.switch(PRODUCTION)
    s.merge(day, MAJA, DEVELOPMENT)
    s.tag(day + 0.02, MAJA, version, f"{version}\n\n{summary}")


# What a clone of the origin shows; tests/demo checks these against git itself.
TAGS = ("v1.0.0", "v1.1.0", "v1.2.0", "v1.2.1")
NEXT_VERSION = "v1.3.0"  # unreleased feat commits on development, no breaking change
# Production's hotfix commit and its merge commit.
DEVELOPMENT_BEHIND = 2
# Since v1.2.0, where development was fast-forwarded: the conflict-features branch's 3
# commits and their merge, and 7 commits made on development itself.
DEVELOPMENT_AHEAD = 11
MERGED_BRANCHES = (LAVENDER_FEATURE, ENSEMBLE_FEATURE, CONFLICT_FEATURE)
# Open branches and how many commits each has that development lacks.
OPEN_BRANCHES = {PRIOGRID_FEATURE: 3, TWEEDIE_EXPERIMENT: 2, CALIBRATION_FEATURE: 1}
PRODUCTION_UNITS = 191
DEVELOPMENT_UNITS = 189  # still without the two countries the hotfix restored
DEPLOYMENT_STATUSES = {
    "blank_space": "deprecated",
    "electric_relaxation": "baseline",
    "lavender_haze": "shadow",
    "orange_pasta": "deployed",
    "purple_alien": "deployed",
}
DRIFTED_MODEL = "orange_pasta"
REGRESSED_METRIC = ("orange_pasta", "coverage")


LAVENDER_TOPICS = """
## Topic features

Monthly shares of news topics (protest, military, displacement, elections) per
country, lagged by one month so the model never sees the month it forecasts.
"""

TWEEDIE_NOTE = """
## Tweedie experiment

A Tweedie loss (power 1.5) instead of the hurdle split: slightly better CRPS in the
first year, worse beyond step 24. Not ready for review.
"""

PRIOGRID_NOTE = """# Posterior draws at PRIO-GRID level

The `pgm` level forecasts each of the 13,110 PRIO-GRID land cells (`priogrid_id`)
instead of countries. 128 draws per cell and month make files of about 240 MB per
model, so the plan is to write one parquet file per step.

Open questions:

- Draw cells independently, or share a country-level draw so that cells add up?
- Does the ewsdash drift check need a sample of cells rather than all of them?
"""

PRIOGRID_STUB = '''"""PRIO-GRID cell sampler: a sketch, not called by run_inference.py yet."""

import numpy as np

N_CELLS = 13_110


def sample_cells(country_draws: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Split each country draw over its cells in proportion to their historical share."""
    raise NotImplementedError("waiting on the cell-to-country table")
'''
