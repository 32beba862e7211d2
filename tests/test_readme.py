"""The README stays true: every setting's variable and every module are documented."""

import re
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
README = (BASE / "README.md").read_text()
PACKAGES = ("ewsdash", "releases", "monitoring", "api", "notifications", "accounts")


def readme_section(title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.M | re.S)
    assert found, f"the README has no section {title!r}"
    return found.group(1)


def test_every_environment_variable_settings_read_is_in_the_configuration_table():
    sources = (BASE / "ewsdash" / "settings.py").read_text() + (BASE / "bin" / "serve").read_text()
    names = set(
        re.findall(r'(?:env_\w+|broker_url|getenv|environ\.get)\(\s*"([A-Z][A-Z0-9_]+)"', sources)
    )
    names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):-", sources))
    table = readme_section("Configuration")
    first_cells = re.findall(r"^\|([^|]+)\|", table, re.M)
    documented = {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}
    assert names, "found no variables: the pattern above is out of date"
    assert sorted(names - documented) == []


def test_every_module_is_listed_in_the_architecture_section():
    architecture = readme_section("Architecture")
    modules = [
        path.relative_to(BASE).as_posix()
        for package in PACKAGES
        for path in sorted((BASE / package).rglob("*.py"))
        if "migrations" not in path.parts
        and "template" not in path.parts
        and path.name != "__init__.py"
    ]
    assert [module for module in modules if f"`{module}`" not in architecture] == []
