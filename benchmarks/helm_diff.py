"""Differential test of the built-in Helm engine against real Helm (helm-python-sdk), chart by chart.

Usage: python benchmarks/helm_diff.py [--charts DIR] [--only NAME ...] [--save FILE] [--quiet]
Default: every chart in ../shared/charts (its SOURCES.md says where each comes from), with its
default values and with each of its own ``ci/*.yaml`` value sets.

Each render goes through ``ecrlint.helm.load_chart`` twice, as a user's run does: once with
``engine="builtin"`` (gotpl) and once with ``engine="sdk"`` (Helm v4 in the sandboxed child of
helm/external.py). Compared, per render:

- success: the built-in engine's ECR401 (render errors) against Helm's own error. "false ECR401"
  is an ECR401 the built-in engine reports where Helm renders; "missed" is the reverse.
- ECR001: problems parsing the rendered manifests (or the values) that one engine reports and the
  other does not.
- images: the ``image`` fields of the rendered documents, as a multiset.
- bytes: every template's rendered text, when both engines rendered. The SDK engine renders
  twice; lines that differ between those two Helm renders (random keys, certificates, uuids,
  dates that sdk_determinism could not fix) are masked in all three texts before comparing.

Prints the counts and each difference; ``--save`` writes the table (markdown) too. Exit code 0
whatever the differences (it is a measurement); 2 when helm-python-sdk or the charts are absent.
"""

from __future__ import annotations

import argparse
import collections
import difflib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHARTS = HERE.parent.parent / "shared" / "charts"
MASK = "\x00masked\x00"


@dataclass
class EngineRun:
    ok: bool = True  # rendered without an ECR401 (or, for Helm, without Helm's error)
    lint: bool = False  # built-in only: rendered as `helm lint` past a `required` install-time input
    errors: list[str] = field(default_factory=list)  # ECR401 messages (Helm's error for the SDK)
    parse_errors: list[str] = field(default_factory=list)  # ECR001 messages
    images: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Comparison:
    chart: str
    values: str
    builtin: EngineRun
    helm: EngineRun
    false_401: int = 0
    missed_401: int = 0
    false_001: int = 0
    missed_001: int = 0
    image_diff: list[str] = field(default_factory=list)
    templates: int = 0
    identical: int = 0
    differing: dict[str, str] = field(default_factory=dict)  # template -> first lines of the diff


def _run(chart: Path, values: list[str], engine: str) -> EngineRun:
    from ecrlint.helm import chart as chart_module
    from ecrlint.helm.trace import image_fields

    captured: dict[str, Any] = {}
    real_documents = chart_module._documents
    real_sdk = chart_module._Renderer._render_sdk

    def documents(parsed: Any, root: Any, outputs: dict[str, str], renderer: Any, user_docs: Any) -> None:
        captured["outputs"] = dict(outputs)
        captured["renderer"] = renderer
        real_documents(parsed, root, outputs, renderer, user_docs)

    def render_sdk(self: Any) -> Any:
        result = real_sdk(self)
        captured["sdk"] = result
        return result

    chart_module._documents = documents  # type: ignore[assignment]
    chart_module._Renderer._render_sdk = render_sdk  # type: ignore[method-assign]
    try:
        start = time.perf_counter()
        parsed = chart_module.load_chart(str(chart), chart.name, values_files=values, engine=engine)
        seconds = time.perf_counter() - start
    finally:
        chart_module._documents = real_documents  # type: ignore[assignment]
        chart_module._Renderer._render_sdk = real_sdk  # type: ignore[method-assign]
    run = EngineRun(seconds=seconds)
    facts = parsed.chart
    run.parse_errors = [f"{e.path}:{e.span.line}:{e.span.column}: {e.message}" for e in parsed.errors]
    for doc in parsed.documents:
        run.images.extend(image for _pointer, image in image_fields(doc.root))
    if engine == "sdk":
        sdk = captured.get("sdk")
        if sdk is None:
            run.ok = False
            run.errors = [f"not rendered by the SDK: {'; '.join(facts.notes) or 'no reason'}"]
        elif sdk.error is not None:
            run.ok = False
            run.errors = [f"{sdk.error[0]}:{sdk.error[1]}: {sdk.error[3]}"]
            run.images = []
            run.parse_errors = []
        else:
            run.outputs = dict(sdk.outputs)
        if facts is not None and facts.render_errors and run.ok:
            run.ok = False
            run.errors = [f"{e.loc.path}:{e.loc.span.line}: {e.message}" for e in facts.render_errors]
        return run
    run.outputs = captured.get("outputs", {})
    if facts is not None:
        run.errors = [f"{e.loc.path}:{e.loc.span.line}: {e.message}" for e in facts.render_errors]
        run.ok = not run.errors
        renderer = captured.get("renderer")
        run.lint = bool(renderer is not None and renderer._exempted)
    return run


def _manifest_names(outputs: dict[str, str]) -> set[str]:
    names = set()
    for name in outputs:
        base = name.rsplit("/", 1)[-1]
        if base == "NOTES.txt" or base.startswith("_"):
            continue
        names.add(name)
    return names


def _masked(a: str, b: str) -> set[int]:
    """Line numbers where two Helm renders of one template differ (same line count), else every line."""
    la, lb = a.split("\n"), b.split("\n")
    if len(la) != len(lb):
        return set(range(max(len(la), len(lb))))
    return {i for i, (x, y) in enumerate(zip(la, lb, strict=True)) if x != y}


def _mask(text: str, lines: set[int]) -> str:
    return "\n".join(MASK if i in lines else line for i, line in enumerate(text.split("\n")))


def compare(chart: Path, values: list[str], label: str) -> Comparison:
    builtin = _run(chart, values, "builtin")
    helm = _run(chart, values, "sdk")
    out = Comparison(chart.name, label, builtin, helm)
    if not builtin.ok and helm.ok:
        out.false_401 = len(builtin.errors)
    if builtin.ok and not builtin.lint and not helm.ok:
        out.missed_401 = 1
    if builtin.ok and helm.ok:
        b001, h001 = collections.Counter(builtin.parse_errors), collections.Counter(helm.parse_errors)
        out.false_001 = sum((b001 - h001).values())
        out.missed_001 = sum((h001 - b001).values())
        bi, hi = collections.Counter(builtin.images), collections.Counter(helm.images)
        out.image_diff = [f"built-in only: {i}" for i in sorted((bi - hi).elements())] + [
            f"helm only: {i}" for i in sorted((hi - bi).elements())
        ]
        again = _run(chart, values, "sdk")
        for name in sorted(_manifest_names(builtin.outputs) | _manifest_names(helm.outputs)):
            out.templates += 1
            mine, theirs = builtin.outputs.get(name, ""), helm.outputs.get(name, "")
            if mine == theirs:
                out.identical += 1
                continue
            masked = _masked(theirs, again.outputs.get(name, ""))
            if masked and _mask(mine, masked) == _mask(theirs, masked):
                out.identical += 1
                continue
            diff = difflib.unified_diff(theirs.split("\n"), mine.split("\n"), "helm", "builtin", n=0, lineterm="")
            out.differing[name] = "\n".join(list(diff)[2:12])
    return out


def value_sets(chart: Path) -> list[tuple[str, list[str]]]:
    sets: list[tuple[str, list[str]]] = [("default", [])]
    ci = chart / "ci"
    if ci.is_dir():
        sets += [(f"ci/{p.name}", [str(p)]) for p in sorted(ci.glob("*.yaml"))]
    return sets


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charts", default=str(CHARTS), help="a directory of chart directories")
    parser.add_argument("--only", nargs="*", default=[], help="chart names (substrings) to compare")
    parser.add_argument("--save", help="write the table (markdown) to this file")
    parser.add_argument("--quiet", action="store_true", help="counts only, no diffs")
    args = parser.parse_args(argv)
    root = Path(args.charts)
    if not root.is_dir():
        print(f"no charts at {root}", file=sys.stderr)
        return 2
    from ecrlint.helm.external import sdk_available

    if not sdk_available():
        print("helm-python-sdk is not installed (pip install 'ecrlint[helm]')", file=sys.stderr)
        return 2
    charts = sorted(p for p in root.iterdir() if (p / "Chart.yaml").is_file())
    if args.only:
        charts = [c for c in charts if any(o in c.name for o in args.only)]
    results: list[Comparison] = []
    for chart in charts:
        for label, values in value_sets(chart):
            result = compare(chart, values, label)
            results.append(result)
            if not args.quiet:
                _print_one(result)
                sys.stdout.flush()
    table = _table(results)
    print(table)
    if args.save:
        Path(args.save).write_text(table + "\n", encoding="utf-8")
    return 0


def _print_one(r: Comparison) -> None:
    where = f"{r.chart} [{r.values}]"
    if r.false_401:
        print(f"FALSE ECR401 {where}:")
        for e in r.builtin.errors[:5]:
            print(f"    {e}")
    if r.missed_401:
        print(f"MISSED ECR401 {where}: helm says {r.helm.errors[0][:300]}")
    if not r.builtin.ok and not r.helm.ok:
        print(f"both fail {where}: builtin {r.builtin.errors[0][:200]} | helm {r.helm.errors[0][:200]}")
    if r.false_001 or r.missed_001:
        print(f"ECR001 {where}: builtin {r.builtin.parse_errors[:3]} helm {r.helm.parse_errors[:3]}")
    for line in r.image_diff:
        print(f"IMAGE {where}: {line}")
    for name, diff in r.differing.items():
        print(f"BYTES {where} {name}:")
        for line in diff.split("\n"):
            print(f"    {line[:200]}")


def _table(results: list[Comparison]) -> str:
    renders = len(results)
    both_ok = sum(1 for r in results if r.builtin.ok and r.helm.ok)
    both_fail = sum(1 for r in results if not r.builtin.ok and not r.helm.ok)
    lint = sum(1 for r in results if r.builtin.ok and r.builtin.lint and not r.helm.ok)
    false_401 = sum(r.false_401 for r in results)
    false_401_renders = sum(1 for r in results if r.false_401)
    missed = sum(r.missed_401 for r in results)
    false_001 = sum(r.false_001 for r in results)
    missed_001 = sum(r.missed_001 for r in results)
    b001_renders = sum(1 for r in results if r.builtin.parse_errors)
    h001_renders = sum(1 for r in results if r.helm.parse_errors)
    image_renders = sum(1 for r in results if r.image_diff)
    image_diffs = sum(len(r.image_diff) for r in results)
    templates = sum(r.templates for r in results)
    identical = sum(r.identical for r in results)
    share = 100.0 * identical / templates if templates else 100.0
    charts = len({r.chart for r in results})
    rows = [
        ("charts", str(charts)),
        ("renders (default values + ci/*.yaml)", str(renders)),
        ("both engines render", str(both_ok)),
        ("both engines stop", str(both_fail)),
        ("Helm stops on `required`, built-in renders as `helm lint` (by design)", str(lint)),
        ("false ECR401 (built-in fails, Helm renders): findings / renders", f"{false_401} / {false_401_renders}"),
        ("missed ECR401 (Helm fails, built-in renders)", str(missed)),
        ("false ECR001 / missed ECR001", f"{false_001} / {missed_001}"),
        ("renders with ECR001: built-in / Helm", f"{b001_renders} / {h001_renders}"),
        ("image differences: entries / renders", f"{image_diffs} / {image_renders}"),
        ("templates compared (both render)", str(templates)),
        ("templates byte-identical", f"{identical} ({share:.1f}%)"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"| {'measure':{width}} | value |", f"|{'-' * (width + 2)}|------:|"]
    lines += [f"| {k:{width}} | {v} |" for k, v in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
