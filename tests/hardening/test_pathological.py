"""Pathological documents (issue 17, item 6): nesting, files that are not files, and the guard
that keeps every YAML the tool reads on the one defensive reader.

Every case ends as the contract says: exit status 2 (or the reader's error), one
``file:line: ...`` line per problem, no traceback. The malformed scenarios themselves are in the
corpus (``make_corpus.py``, cases ``deep_*``, ``int_*``, ...); this module proves what a corpus
file cannot: where the limit sits, that it acts before PyYAML's composer runs, and that every
reader goes through it.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from sim.calibration.spec import CalibrationError, load_calibration
from sim.calibration.targets import TargetsError, load_targets
from sim.cli import main
from sim.experiments.definition import ExperimentError, load_experiment
from sim.input import yaml_source
from sim.input.fitted import FittedError, read_fitted
from sim.input.scenario import ScenarioError, load_scenario, parse_scenario
from sim.input.yaml_source import MAX_DEPTH, YamlError, parse_yaml

REPO = Path(__file__).resolve().parents[2]
SIM = REPO / "sim"


def nested(depth: int, style: str) -> str:
    """A document whose deepest list or mapping is ``depth`` levels down (the top mapping is 1)."""
    inner = depth - 1  # levels below the top-level mapping
    if style == "flow_list":
        return "x: " + "[" * inner + "1" + "]" * inner + "\n"
    if style == "flow_map":
        return "x: " + "{a: " * inner + "1" + "}" * inner + "\n"
    if style == "block_list":  # compact nested sequences: "- - - 1"
        return "x:\n  " + "- " * inner + "1\n"
    if style == "block_map":
        return "x:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(inner - 1)) + " " * inner + "a: 1\n"
    raise ValueError(style)


STYLES = ["flow_list", "flow_map", "block_list", "block_map"]


@pytest.mark.parametrize("style", STYLES)
def test_the_nesting_limit_is_exact_in_every_style(style):
    doc = parse_yaml(nested(MAX_DEPTH, style), "deep.yaml")
    node, levels = doc.data, 0
    while isinstance(node, (dict, list)):
        node = next(iter(node.values())) if isinstance(node, dict) else node[0]
        levels += 1
    assert levels == MAX_DEPTH
    with pytest.raises(YamlError) as err:
        parse_yaml(nested(MAX_DEPTH + 1, style), "deep.yaml")
    assert re.fullmatch(rf"deep\.yaml:\d+: lists and mappings nested {MAX_DEPTH + 1} levels deep; at most "
                        rf"{MAX_DEPTH} are allowed", str(err.value)), str(err.value)


@pytest.mark.parametrize("style", STYLES)
def test_deep_documents_are_refused_before_the_composer_runs(style, monkeypatch):
    def compose(*args, **kwargs):  # pragma: no cover - reaching it is the failure
        raise AssertionError("the composer (one recursion per level) ran on a deep document")

    monkeypatch.setattr(yaml_source._Loader, "get_single_node", compose)
    with pytest.raises(YamlError, match="nested"):
        parse_yaml(nested(20_000 if style != "block_map" else 1_000, style), "deep.yaml")


def test_the_depth_error_points_at_the_line_where_the_limit_is_crossed():
    text = "name: x\nworld:\n  graph:\n" + "".join(" " * (4 + i) + f"k{i}:\n" for i in range(70)) + " " * 74 + "1\n"
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, source="s.yaml")
    # A block mapping opens at its first key: level 1 on line 1, world's (2) at "graph:" on line 3,
    # graph's (3) at k0 on line 4, ..., level 65 at k62 on line 66.
    assert err.value.problems == ["s.yaml:66: lists and mappings nested 65 levels deep; at most 64 are allowed"]


# Block style: PyYAML's scanner looks up to 1,024 characters ahead for a possible key after each
# "[", which costs about a second per flow document however deep (the corpus has those).
DEEP = "name: x\nextra:\n  " + "- " * 5000 + "1\n"


@pytest.mark.parametrize("reader, error", [
    (load_scenario, ScenarioError), (load_experiment, ExperimentError), (load_calibration, CalibrationError),
    (load_targets, TargetsError), (read_fitted, FittedError)])
def test_every_reader_refuses_a_deep_document_with_one_located_line(reader, error, tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP)
    with pytest.raises(error) as err:
        reader(path)
    lines = getattr(err.value, "problems", None) or str(err.value).splitlines()
    assert lines == [f"{path}:3: lists and mappings nested 65 levels deep; at most 64 are allowed"]


def test_a_deep_fitted_file_named_by_a_scenario_is_refused_at_its_parameters_key(tmp_path):
    (tmp_path / "fitted.yaml").write_text(DEEP)
    path = tmp_path / "s.yaml"
    path.write_text((REPO / "calibration/panel.yaml").read_text() + "parameters: fitted.yaml\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert len(err.value.problems) == 1, err.value.problems
    assert re.match(rf"{re.escape(str(path))}:\d+: parameters: .*fitted\.yaml:3: lists and mappings nested 65 "
                    "levels deep", err.value.problems[0]), err.value.problems


@pytest.mark.parametrize("argv", [["{path}", "--check"], ["calibrate", "{path}", "--check"]])
def test_the_command_line_exits_2_with_one_line_on_a_deep_document(argv, tmp_path, capsys):
    path = tmp_path / "deep.yaml"
    path.write_text("experiment: kempe\n" + DEEP.removeprefix("name: x\n"))
    code = main([a.format(path=path) for a in argv])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.splitlines() == [f"{path}:3: lists and mappings nested 65 levels deep; at most 64 are "
                                         "allowed"]


def test_files_that_are_not_files_are_refused(tmp_path, capsys):
    cases = {tmp_path: "is a folder, not a YAML file", Path("/dev/null"): "the file is empty"}
    if Path("/dev/zero").exists():  # read only up to the size limit: an endless file ends too
        cases[Path("/dev/zero")] = "more than 1,048,576 characters"
    for path, message in cases.items():
        assert main([str(path), "--check"]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith(f"{path}") and message in err[0], err


def test_a_loop_of_symbolic_links_as_an_edge_list_is_refused(tmp_path, capsys):
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    path = tmp_path / "s.yaml"
    path.write_text("name: loop\nseed: 1\ntrials: 2\nworld:\n  graph: {kind: edgelist, path: a, directed: true}\n"
                    "model: {kind: independent_cascade, edge_prob: 0.2}\nrecruits: {rule: random, count: 1}\n")
    assert main([str(path), "--check"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"{path}:5: world.graph.path: cannot be read"), err


_PARSERS = {"load", "safe_load", "full_load", "unsafe_load", "load_all", "safe_load_all", "full_load_all",
            "unsafe_load_all", "compose", "compose_all", "parse", "scan"}


def test_every_yaml_the_tool_reads_goes_through_the_defensive_reader():
    """No module but the one defining ``parse_yaml`` hands text to PyYAML (``yaml.safe_dump``, which
    writes, is fine): a reader of its own would skip the depth, size, tag and alias limits."""
    readers, offenders = [], []
    for file in sorted(SIM.rglob("*.py")):
        tree = ast.parse(file.read_text(), str(file))
        if any(isinstance(n, ast.FunctionDef) and n.name == "parse_yaml" for n in tree.body):
            readers.append(file)
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr in _PARSERS and isinstance(node.value, ast.Name)
                    and node.value.id == "yaml"):
                offenders.append(f"{file.relative_to(REPO)}:{node.lineno}: yaml.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "yaml" and {a.name for a in node.names} & _PARSERS:
                offenders.append(f"{file.relative_to(REPO)}:{node.lineno}: from yaml import ...")
    assert len(readers) == 1, readers
    assert not offenders, offenders


CLASSIC = (REPO / "tests/hardening/corpus/000_typo_sed.yaml").read_text().replace("sed: 1", "seed: 1")


@pytest.mark.parametrize("manifest", [bytes(range(256)), b"[" * 5000 + b"]" * 5000, b"[1, 2]",
                                      b'{"x": ' + b"9" * 5000 + b"}", None])
def test_a_results_folder_with_a_manifest_the_tool_did_not_write_is_kept(manifest, tmp_path, capsys):
    """Binary, too deeply nested, not a mapping, unconvertible numbers, a folder: each used to end
    in a traceback; the folder is refused, even with --overwrite, and nothing in it is touched."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(CLASSIC)
    folder = tmp_path / "out" / "classic"
    folder.mkdir(parents=True)
    if manifest is None:
        (folder / "manifest.json").mkdir()
    else:
        (folder / "manifest.json").write_bytes(manifest)
    before = sorted(p.name for p in folder.iterdir())
    for extra in ([], ["--overwrite"]):
        code = main([str(scenario), "--out", str(tmp_path / "out"), "--quiet", "--executor", "serial", *extra])
        err = capsys.readouterr().err.splitlines()
        assert code == 2 and len(err) == 1 and "not a run's results" in err[0], err
    assert sorted(p.name for p in folder.iterdir()) == before


def test_an_output_path_through_a_file_is_refused(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(CLASSIC)
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "classic").write_text("x")
    for out, message in [(tmp_path / "a_file", "a part of its path is a file"), (tmp_path / "out", "is a file")]:
        code = main([str(scenario), "--out", str(out), "--quiet", "--executor", "serial"])
        err = capsys.readouterr().err.splitlines()
        assert code == 2 and len(err) == 1 and message in err[0], err


def test_a_memory_limit_of_thousands_of_digits_is_an_argument_error(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(CLASSIC)
    with pytest.raises(SystemExit) as exit_:
        main([str(scenario), "--check", "--max-memory", "9" * 5000 + "G"])
    assert exit_.value.code == 2
    assert "--max-memory: must be a size" in capsys.readouterr().err


@pytest.mark.parametrize("definition, old, new, key", [
    ("e5_bakshy.yaml", "max_followers: 50000", "max_followers: 10000001", "full.max_followers"),
    ("source_claims.yaml", "base_samples: 32\n", "base_samples: 1048576\n", "full.base_samples")])
def test_experiment_sizes_carry_the_bounds_of_what_they_build(definition, old, new, key, tmp_path):
    """E5's largest follower count becomes a power law's range, the claims audit's base sample a sweep's
    design: a definition past their bounds is refused when read, not mid-run."""
    text = (REPO / "experiments" / definition).read_text()
    assert old in text
    path = tmp_path / definition
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ExperimentError) as err:
        load_experiment(path)
    assert len(err.value.problems) == 1 and f": {key}: Input should be less than or equal to" in err.value.problems[0]


def test_a_claims_audit_of_more_points_than_a_sweep_runs_is_refused_before_it_runs(tmp_path, capsys):
    """The audit's sample has N (D + 2) points over its D parameters: 2**15 x 37 is past a sweep's limit
    (MAX_POINTS), refused with exit 2 and one line located at the size, nothing written."""
    text = (REPO / "experiments" / "source_claims.yaml").read_text()
    path = tmp_path / "source_claims.yaml"
    # the first base_samples is the full size's (whatever it is now)
    bigger, count = re.subn(r"base_samples: \d+\n", "base_samples: 32768\n", text, count=1)
    assert count == 1 and text.index("full:") < text.index("base_samples:") < text.index("quick:")
    path.write_text(bigger)
    out = tmp_path / "out"
    assert main([str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and re.match(rf"{re.escape(str(path))}:\d+: full\.base_samples: 32,768 x \(", err[0]), err
    assert "at most 1,000,000" in err[0] and not out.exists()


@pytest.mark.parametrize("text, line", [
    ('name: "\\ud800"\n', 1),                                   # a value
    ("name: x\nstrategies:\n  - {\"\\udc00a\": 1}\n", 3),     # a key (hypothesis found this one)
])
def test_a_lone_surrogate_is_refused_with_its_line(text, line):
    r"""YAML's "\ud800" escape gives half of a UTF-16 pair, which no UTF-8 text can hold: validation
    messages naming it could not be printed (pydantic raised UnicodeEncodeError), so the reader
    refuses it, located, and the message itself is ASCII."""
    with pytest.raises(YamlError) as exc:
        parse_yaml(text, "s.yaml")
    assert exc.value.line == line and "half of a UTF-16 pair" in str(exc.value)
    str(exc.value).encode("utf-8")
    with pytest.raises(ScenarioError) as bad:
        parse_scenario(text, source="s.yaml")
    assert bad.value.problems[0].startswith(f"s.yaml:{line}:")
