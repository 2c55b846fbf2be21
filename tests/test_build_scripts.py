"""Static checks of the standalone build (issue 7); building the bundle is `make dist-test`."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "build_scripts"
SPEC = SCRIPTS / "nst_desktop.spec"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_nst_build_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def _constants(tree: ast.Module) -> dict[str, object]:
    """Top-level literal assignments of the spec (its configuration)."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
    return found


def _calls(tree: ast.Module, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
    ]


def test_spec_excludes_unused_qt_but_not_what_the_window_needs(spec_tree):
    excluded = set(_constants(spec_tree)["EXCLUDED_QT"])
    for module in (
        "QtWebEngineCore",
        "QtWebEngineWidgets",
        "Qt3DCore",
        "QtMultimedia",
        "QtQuick",
        "QtQml",
        "QtCharts",
        "QtPdf",
        "QtSql",
        "QtTest",
        "QtDesigner",
    ):
        assert f"PySide6.{module}" in excluded
    for needed in ("QtCore", "QtGui", "QtWidgets", "QtDBus"):  # QtDBus: the taskbar progress
        assert f"PySide6.{needed}" not in excluded


def test_spec_keeps_torch_itself(spec_tree):
    excluded = set(_constants(spec_tree)["EXCLUDED_PY"])
    assert "triton" in excluded
    assert not {m for m in excluded if m in ("torch", "torchvision", "numpy", "PIL", "nst_desktop")}


def test_resources_land_where_paths_looks_inside_a_bundle(spec_tree, monkeypatch, tmp_path):
    """The spec's data destinations must be what core.paths.resources_dir() finds under _MEIPASS."""
    from nst_desktop.core import paths

    dirs = _constants(spec_tree)["RESOURCE_DIRS"]
    assert {src for src, _ in dirs} == {
        "resources/presets",
        "resources/samples",
        "resources/icons",
        "resources/preset_pictures",
    }
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    for src, dest in dirs:
        assert (REPO / src).is_dir()
        assert tmp_path / dest == paths.resources_dir() / Path(src).name


def test_the_desktop_entry_is_bundled_and_names_the_real_entry_point(spec_tree):
    import configparser
    import tomllib

    from nst_desktop.gui import taskbar

    files = _constants(spec_tree)["RESOURCE_FILES"]
    assert ("resources/nst-desktop.desktop", "resources") in files
    path = REPO / "resources" / "nst-desktop.desktop"
    assert path.name == f"{taskbar.DESKTOP_ID}.desktop"  # the entry the progress is sent to
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read_string(path.read_text(encoding="utf-8"))
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application" and d["Name"] == "NST Desktop"
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[d["Exec"].split()[0]] == "nst_desktop.cli:main"
    assert (REPO / "resources" / "icons" / f"{d['Icon']}.png").is_file()
    assert "Graphics" in d["Categories"].split(";")


def test_spec_makes_two_launchers_sharing_one_folder(spec_tree):
    consts = _constants(spec_tree)
    exes = _calls(spec_tree, "EXE")
    assert len(exes) == 2 and len(_calls(spec_tree, "COLLECT")) == 1
    shape = {}
    for call in exes:
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        shape[
            ast.literal_eval(kw["name"])
            if isinstance(kw["name"], ast.Constant)
            else consts[kw["name"].id]
        ] = ast.literal_eval(kw["console"])
    assert shape == {consts["GUI_EXE"]: False, consts["CONSOLE_EXE"]: True}
    assert "'launcher.py'" in ast.dump(_calls(spec_tree, "Analysis")[0].args[0])


def test_launcher_hands_over_to_the_cli(monkeypatch):
    import nst_desktop.cli

    seen = []
    monkeypatch.setattr(nst_desktop.cli, "main", lambda: seen.append(1) or 7)
    monkeypatch.delenv("NST_DESKTOP_DIST_PROBE", raising=False)
    assert _load("launcher").main() == 7 and seen == [1]


def test_window_probe_reports_the_window_and_quits(qapp, monkeypatch, capsys):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    launcher = _load("launcher")
    monkeypatch.setattr(QApplication, "exec", QApplication.exec)  # undone after the test
    launcher._install_window_probe(0.05)
    QTimer.singleShot(20_000, QApplication.quit)  # never hang the suite if the probe breaks
    label = QLabel("probe")
    label.show()
    try:
        assert qapp.exec() == 0
    finally:
        label.close()
    assert launcher.PROBE_SHOWN in capsys.readouterr().err


def test_dist_test_checks_bundled_resources(tmp_path):
    dist_test = _load("dist_test")
    app = tmp_path / "nst-desktop"
    internal = app / "_internal"
    version = dist_test.repo_version()
    for where in (app, internal):
        where.mkdir(parents=True, exist_ok=True)
        (where / "VERSION").write_text(version + "\n")
    for rel in ("presets", "samples", "icons", "preset_pictures"):
        (internal / "resources" / rel).mkdir(parents=True)
        for f in (REPO / "resources" / rel).rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts:
                dest = internal / "resources" / rel / f.relative_to(REPO / "resources" / rel)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(b"")
    launcher = internal / "resources" / "nst-desktop.desktop"
    with pytest.raises(dist_test.Failure, match="launcher"):
        dist_test.check_resources(app, version)
    launcher.write_bytes(b"")
    assert version in dist_test.check_resources(app, version)
    with pytest.raises(dist_test.Failure):
        dist_test.check_resources(app, version + ".dev1")
    launcher.unlink()  # the folder checks below
    bundled = [p for p in (internal / "resources").rglob("*") if p.is_file()]
    if bundled:
        bundled[0].unlink()
        with pytest.raises(dist_test.Failure, match="not fully bundled"):
            dist_test.check_resources(app, version)


def test_dist_test_environment_is_clean(tmp_path):
    env = _load("dist_test").clean_env(tmp_path)
    assert env["HOME"] == str(tmp_path)
    assert not {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "TORCH_HOME"} & set(env)
    assert ".venv" not in env["PATH"] and str(REPO) not in env["PATH"]


def test_png_size_reads_the_header(tmp_path):
    from PIL import Image

    dist_test = _load("dist_test")
    Image.new("RGB", (32, 21)).save(tmp_path / "x.png")
    assert dist_test.png_size(tmp_path / "x.png") == (32, 21)
    (tmp_path / "y.png").write_bytes(b"not a png at all, really not")
    with pytest.raises(dist_test.Failure):
        dist_test.png_size(tmp_path / "y.png")


def test_build_outputs_are_ignored_by_git():
    lines = (REPO / ".gitignore").read_text().split()
    assert "build/" in lines and "dist/" in lines


def test_package_imports_no_qt_module_the_bundle_leaves_out(spec_tree):
    """Code importing an excluded module would run from source but fail in the bundle."""
    excluded = set(_constants(spec_tree)["EXCLUDED_QT"]) | set(_constants(spec_tree)["EXCLUDED_PY"])
    for source in (REPO / "nst_desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                hit = {m for m in excluded if name == m or name.startswith(m + ".")}
                assert not hit, f"{source.relative_to(REPO)} imports excluded {name}"
