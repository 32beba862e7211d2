"""The ``skill`` check's comparison (no Django import): a candidate's forecast files against
production's and two naive forecasts, on the outcomes the pipeline wrote beside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import NDArray

from .compare import WORSE, compare_steps, overall_verdict
from .forecasts import ForecastError, forecast_layout, forecast_read, guess_unit, join_values
from .scores import CellScores, score_cells

MONTH_KEY = 1000  # (month, step) as one number: month * 1000 + step


class SkillInputError(ValueError):
    """The files cannot be compared (unreadable, no unit column, ragged draws)."""


@dataclass
class SkillReport:
    status: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def _table(path: Path) -> pa.Table:
    try:
        return pq.read_table(path) if path.suffix == ".parquet" else pacsv.read_csv(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise SkillInputError(f"cannot read {path.name}: {error}") from error


def read_outcomes(paths: list[Path], unit: str | None, time: str) -> dict[str, NDArray]:
    """{target: rows (unit, month, value)} from long (target, value) or wide files."""
    found: dict[str, list[NDArray]] = {}
    for path in paths:
        table = _table(path)
        names = table.column_names
        try:
            unit_column = unit or guess_unit(names, time)
        except ForecastError as error:
            raise SkillInputError(f"{path.name}: {error}") from error
        if unit_column not in names or time not in names:
            raise SkillInputError(f"{path.name} lacks its {unit_column} or {time} column")
        units = table.column(unit_column).to_numpy().astype(np.float64)
        months = table.column(time).to_numpy().astype(np.float64)
        if "target" in names and "value" in names:
            targets = np.asarray(table.column("target").to_pylist(), dtype=object)
            values = table.column("value").to_numpy(zero_copy_only=False).astype(np.float64)
            for target in set(targets.tolist()):
                here = targets == target
                name = str(target).removeprefix("pred_")
                found.setdefault(name, []).append(
                    np.stack([units[here], months[here], values[here]], axis=1)
                )
            continue
        for name in names:
            if name in (unit_column, time):
                continue
            values = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
            found.setdefault(name.removeprefix("pred_"), []).append(
                np.stack([units, months, values], axis=1)
            )
    return {target: np.concatenate(parts) for target, parts in found.items()}


@dataclass
class _Cells:
    units: NDArray
    months: NDArray
    steps: NDArray
    draws: NDArray


def _read(path: Path, column: str, unit: str, time: str) -> _Cells:
    layout = forecast_layout(path, time=time)
    if column not in layout.columns:
        raise ForecastError(f"no column {column}")
    forecast = forecast_read(path, column=column, unit=unit, months=layout.months, time=time)
    steps = (
        forecast.steps if forecast.steps is not None else forecast.months - layout.first_month + 1
    )
    return _Cells(forecast.units, forecast.months, steps, forecast.draws)


def _summary(tests: list[Any], candidate: float, reference: float) -> dict[str, Any]:
    return {
        "verdict": overall_verdict(tests),
        "candidate": candidate,
        "reference": reference,
        "steps": [item.as_dict() for item in tests],
    }


def skill_compare(
    files: list[Path],
    outcome_files: list[Path],
    *,
    production: dict[str, Path] | None,
    unit: str | None,
    time: str,
    scores: list[str],
    names: dict[str, str],
    alpha: float,
    threshold: float,
    floors: list[dict[str, str]],
) -> SkillReport:
    outcomes = read_outcomes(outcome_files, unit, time)
    compared: dict[str, Any] = {}
    worse: list[str] = []
    breached: list[str] = []
    floor_report: list[dict[str, Any]] = []
    notes: list[str] = []
    for path in sorted(files):
        try:
            layout = forecast_layout(path, time=time)
            unit_column = unit or guess_unit(pq.read_schema(path).names, time)
        except ForecastError as error:
            raise SkillInputError(f"{path.name}: {error}") from error
        for column in layout.columns:
            target = column.removeprefix("pred_")
            if target not in outcomes:
                notes.append(f"{path.name} {column}: no outcomes")
                continue
            key = f"{path.name}:{column}"
            try:
                entry = _compare_column(
                    path, column, target, unit_column, time, outcomes, production,
                    scores, names, alpha, threshold,
                )  # fmt: skip
            except ForecastError as error:
                raise SkillInputError(f"{key}: {error}") from error
            if entry is None:
                notes.append(f"{key}: no forecast cell has an outcome")
                continue
            compared[key] = entry
            for score in scores:
                label = names[score]
                verdict = entry["against"].get("production", {}).get(label, {}).get("verdict")
                if verdict == WORSE:
                    worse.append(f"{label} of {key}")
            for floor in floors:
                result = _floor(entry, floor, key)
                floor_report.append(result)
                if result["held"] is False:
                    breached.append(result["text"])
    details: dict[str, Any] = {
        "compared": compared,
        "floors": floor_report,
        "alpha": alpha,
        "notes": notes,
    }
    if not compared:
        return SkillReport(
            "inconclusive", "nothing compared: no forecast cell has an outcome", details
        )
    if worse or breached:
        problems = [f"worse than production: {', '.join(worse[:3])}"] if worse else []
        problems += [f"floor broken: {', '.join(breached[:3])}"] if breached else []
        return SkillReport("failed", "; ".join(problems), details)
    return SkillReport("passed", _passed_summary(compared, scores, names), details)


def _passed_summary(compared: dict[str, Any], scores: list[str], names: dict[str, str]) -> str:
    parts = []
    for key, entry in list(compared.items())[:3]:
        production = entry["against"].get("production")
        if production:
            verdicts = ", ".join(f"{names[s]} {production[names[s]]['verdict']}" for s in scores)
            parts.append(f"{key}: {verdicts} vs production")
        else:
            parts.append(f"{key}: no production forecast to compare")
    return "; ".join(parts)


def _floor(entry: dict[str, Any], floor: dict[str, str], key: str) -> dict[str, Any]:
    metric, beat = floor["metric"], floor["beat"]
    against = entry["against"].get(beat, {}).get(metric)
    if against is None:
        return {**floor, "file": key, "held": None, "text": f"{metric} vs {beat}: not available"}
    held = against["candidate"] < against["reference"]
    text = (
        f"{metric} of {key} must beat {beat}: {against['candidate']:.4g} vs "
        f"{against['reference']:.4g}"
    )
    return {**floor, "file": key, "held": held, "text": text}


def _compare_column(
    path: Path,
    column: str,
    target: str,
    unit: str,
    time: str,
    outcomes: dict[str, NDArray],
    production: dict[str, Path] | None,
    scores: list[str],
    names: dict[str, str],
    alpha: float,
    threshold: float,
) -> dict[str, Any] | None:
    cand = _read(path, column, unit, time)
    observed = join_values(cand.units, cand.months, outcomes[target])
    keep = ~np.isnan(observed)
    if not keep.any():
        return None
    cand = _Cells(cand.units[keep], cand.months[keep], cand.steps[keep], cand.draws[keep])
    observed = observed[keep]
    others: dict[str, tuple[NDArray, NDArray[np.bool_]]] = {
        "zeros": (np.zeros((len(observed), 1)), np.ones(len(observed), dtype=bool)),
    }
    # The last value observed before the forecast's origin: month - step.
    last = join_values(cand.units, cand.months - cand.steps, outcomes[target])
    if np.isfinite(last).any():
        others["last"] = (np.nan_to_num(last)[:, None], np.isfinite(last))
    if production is not None and path.name in production:
        try:
            prod = _read(production[path.name], column, unit, time)
        except ForecastError:
            prod = None
        if prod is not None:
            index = np.stack(
                [prod.units, prod.months * MONTH_KEY + prod.steps, np.arange(len(prod.units))],
                axis=1,
            ).astype(np.float64)
            where = join_values(cand.units, cand.months * MONTH_KEY + cand.steps, index)
            found = np.isfinite(where)
            rows = np.where(found, where, 0).astype(np.int64)
            members = prod.draws.shape[1]
            draws = np.zeros((len(observed), members), dtype=np.float32)
            draws[found] = prod.draws[rows[found]]
            others["production"] = (draws, found)
    candidate = score_cells(cand.draws, observed, threshold=threshold, seed=1)
    against: dict[str, Any] = {}
    for name, (draws, mask) in others.items():
        reference = score_cells(draws, observed, threshold=threshold, seed=1)
        against[name] = {
            names[score]: _versus(candidate, reference, score, mask, cand, alpha)
            for score in scores
        }
    return {"cells": int(len(observed)), "against": against}


def _versus(
    candidate: CellScores,
    reference: CellScores,
    score: str,
    mask: NDArray[np.bool_],
    cells: _Cells,
    alpha: float,
) -> dict[str, Any]:
    mine = getattr(candidate, score)[mask]
    theirs = getattr(reference, score)[mask]
    tests = compare_steps(mine, theirs, cells.steps[mask], cells.months[mask], alpha=alpha)
    return _summary(tests, float(mine.mean()), float(theirs.mean()))
