"""The built-in Helm engine against hostile charts: work and size budgets, linear scans, fixed clock and randomness.

Attackers control a pull request's charts and values (safe on untrusted pull requests). Each attack
below is a chart of its own in one tree, next to an ordinary manifest; the tree is linted once by
the real command line (``ecrlint.cli.main``) in a child process with an address-space limit, and:

- every attack ends as an ECR401 at its template line, whose message says which budget it passed;
- the ordinary manifest still gets its finding, and the run exits 1;
- the whole run's peak memory stays within EXTRA_MEMORY_MB of a run on the manifest alone.

No timing is asserted: HANG_GUARD only turns a hang (the old engine took minutes to hours on most of
these) into a failure. See linter/helm/budgets.py for the limits.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HANG_GUARD = 600  # seconds for one child run: a hang fails the test instead of the suite
MEMORY_LIMIT = 3 * 1024**3  # address space of a child: a runaway allocation fails there, not on the machine
EXTRA_MEMORY_MB = 300

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx:1.25
"""
CHART = "apiVersion: v2\nname: {name}\nversion: 1.0.0\n"
HEAD = "kind: ConfigMap\n# the next line is the attack\n"  # the attack is on line 3 of every template


def _billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


BOMB = _billion_laughs()
BOMB_ARRAY = "- " + BOMB.replace("\n", "\n  ").rstrip() + "\n"
DEEP_JSON = "[" * 600 + "]" * 600
BIG = '{{ $s := repeat 1000000 "ab" }}'  # 2 MB, within every per-value limit
DAG = '{{ $x := list "a" "b" }}{{ range until 40 }}{{ $x = list $x $x }}{{ end }}'

# name -> (line 3 of templates/t.yaml, extra chart files, what the ECR401 message says)
ATTACKS: dict[str, tuple[str, dict[str, str], str]] = {
    "fromyaml-bomb": ('{{ $x := .Files.Get "bomb.yaml" | fromYaml }}{{ toYaml $x }}', {"bomb.yaml": BOMB},
                      "fromYaml: YAML aliases expand to more than"),
    "fromyamlarray-bomb": ('{{ $x := .Files.Get "bomb.yaml" | fromYamlArray }}{{ toYaml $x }}',
                           {"bomb.yaml": BOMB_ARRAY}, "fromYamlArray: YAML aliases expand to more than"),
    "fromjson-deep": ('{{ $x := .Files.Get "deep.json" | fromJson }}{{ $x }}', {"deep.json": '{"a": ' + DEEP_JSON + "}"},
                      "fromJson: the JSON nests deeper than"),
    "printf-zero-width": ('{{ printf "%0500000000d" 1 }}', {}, "printf: a width or precision of"),
    "printf-width": ('{{ printf "%500000000s" "x" }}', {}, "printf: a width or precision of"),
    "printf-precision": ('{{ printf "%.500000000f" 1.5 }}', {}, "printf: a width or precision of"),
    "printf-star": ('{{ printf "%*d" 500000000 1 }}', {}, "printf: a width or precision of 500000000"),
    "indent": ('{{ indent 500000000 "x" }}', {}, "indent would build a string"),
    "nindent": ('{{ nindent 500000000 "x" }}', {}, "nindent would build a string"),
    "repeat-loop": ('{{ range until 100000 }}{{ $_ := repeat 9000000 "x" }}{{ end }}', {}, "exceeded the render budget"),
    "trunc-loop": (BIG + '{{ range until 100000 }}{{ $_ := trunc 500000000 $s }}{{ end }}', {}, "exceeded the render budget"),
    "substr-loop": (BIG + '{{ range until 100000 }}{{ $_ := substr 0 500000000 $s }}{{ end }}', {},
                    "exceeded the render budget"),
    "wrap": ('{{ wrap 1 (repeat 3000000 "ab") }}', {}, "wrap would build a string"),
    "wrapwith": (BIG + '{{ wrapWith 1 (repeat 1000 "y") $s }}', {}, "wrapWith would build a string"),
    "cat": (BIG + "{{ cat $s $s $s $s $s $s $s $s $s $s }}", {}, "cat would build a string"),
    "join": ('{{ join (repeat 1000 "-") (until 100000) }}', {}, "join would build a string"),
    "doubling": ('{{ $s := "x" }}{{ range until 40 }}{{ $s = print $s $s }}{{ end }}', {}, "print would build a string"),
    "toyaml-dag": (DAG + "{{ toYaml $x }}", {}, "toYaml would build more than"),
    "tojson-dag": (DAG + "{{ toJson $x }}", {}, "toJson would build more than"),
    "dict-dag": ('{{ $x := dict "a" "b" }}{{ range until 40 }}{{ $x = dict "l" $x "r" $x }}{{ end }}{{ toYaml $x }}',
                 {}, "toYaml would build more than"),
    "write-dag": (DAG + "{{ $x }}", {}, "a template action would build more than"),
    "append-loop": ('{{ $l := list }}{{ range until 100000 }}{{ $l = append $l 1 }}{{ end }}', {},
                    "exceeded the render budget: the chart"),
    "dict-loop": (('{{ $d := dict }}{{ range $i := until 100000 }}{{ $_ := set $d (toString $i) (list $i) }}'
                   "{{ $_ := keys $d }}{{ end }}"), {}, "exceeded the render budget: the chart"),
    "b64enc-chain": ('{{ $s := repeat 100 "x" }}{{ range until 80 }}{{ $s = b64enc $s }}{{ end }}', {},
                     "b64enc would build a string"),
    "include-doubling": (('{{ $s := "x" }}{{ range until 40 }}{{ $s = include "twice" $s }}{{ end }}'
                          '{{ define "twice" }}{{ . }}{{ . }}{{ end }}'), {}, "budget exceeded"),
    "output-loop": (BIG + "{{ range until 100000 }}{{ $s }}{{ end }}", {}, "budget exceeded"),
    "instructions": ("{{ range until 100000 }}" + "{{ if $.Values }}{{ end }}" * 2000 + "{{ end }}", {},
                     "exceeded the render budget: the chart has used all"),
    "regex-loop": ('{{ $s := repeat 2000 "ab" }}{{ range until 100000 }}{{ $_ := regexMatch "(a|b)+z" $s }}{{ end }}',
                   {}, "exceeded the render budget: the chart has used all"),
}


def _lint(root: Path, *paths: str, prelude: str = "", env: dict[str, str] | None = None
          ) -> tuple[int, list[dict[str, Any]], int, str]:
    """``ecrlint check --helm-engine builtin --format json PATHS`` in a child: (exit, findings, peak RSS MB, stderr)."""
    script = (
        "import json, resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
        + prelude +
        "from ecrlint.cli import main\n"
        "code = main(['check', '--helm-engine', 'builtin', '--format', 'json', '--jobs', '1', *sys.argv[1:]])\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        "sys.stderr.write('\\n' + json.dumps({'exit': code, 'peak_mb': peak}) + '\\n')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, *paths], cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})})
    try:
        out, err = proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the run did not finish in {HANG_GUARD} s")
    assert "Traceback" not in err, err[-3000:]
    assert proc.returncode == 0, err[-3000:]
    status = json.loads(err.strip().splitlines()[-1])
    return status["exit"], json.loads(out)["findings"], status["peak_mb"], err


def _chart(root: Path, name: str, template: str, files: dict[str, str] | None = None) -> None:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART.format(name=name))
    (chart / "templates" / "t.yaml").write_text(template)
    for rel, text in (files or {}).items():
        (chart / rel).write_text(text)


def _render_errors(findings: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["rule"] == "ECR401" and f["path"] == path]


def _ordinary_finding(findings: list[dict[str, Any]]) -> None:
    assert any(f["rule"] == "ECR101" and f["path"] == "pod.yaml" for f in findings), findings


@pytest.fixture(scope="module")
def baseline_mb(tmp_path_factory: pytest.TempPathFactory) -> int:
    """Peak memory of a run on the ordinary manifest alone (the interpreter, ecrlint, gotpl)."""
    root = tmp_path_factory.mktemp("baseline")
    (root / "pod.yaml").write_text(POD)
    _chart(root, "plain", HEAD + "data: {}\n")
    _exit, _findings, peak, _err = _lint(root, ".")
    return peak


@pytest.fixture(scope="module")
def attacks(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, list[dict[str, Any]], int]:
    """All attack charts and the ordinary manifest, linted in one run (one process: --jobs 1)."""
    root = tmp_path_factory.mktemp("attacks")
    (root / "pod.yaml").write_text(POD)
    for name, (line, files, _message) in ATTACKS.items():
        _chart(root, name, HEAD + line + "\n", files)
    exit_code, findings, peak, _err = _lint(root, ".")
    return exit_code, findings, peak


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_ends_as_a_render_error_at_its_line(attacks: tuple[int, list[dict[str, Any]], int], name: str) -> None:
    exit_code, findings, _peak = attacks
    errors = _render_errors(findings, f"{name}/templates/t.yaml")
    assert len(errors) == 1, (name, errors)
    [error] = errors
    assert error["line"] == 3, error
    assert ATTACKS[name][2] in error["message"], error["message"]
    assert exit_code == 1
    _ordinary_finding(findings)


def test_all_attacks_together_stay_within_memory(attacks: tuple[int, list[dict[str, Any]], int], baseline_mb: int) -> None:
    _exit, _findings, peak = attacks
    assert peak < baseline_mb + EXTRA_MEMORY_MB, (peak, baseline_mb)


def test_a_chart_budget_spent_by_one_template_stops_the_others(tmp_path: Path) -> None:
    # Each template alone is within gotpl's per-template steps; together they pass the chart's work.
    (tmp_path / "pod.yaml").write_text(POD)
    chart = tmp_path / "many"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART.format(name="many"))
    for i in range(8):
        (chart / "templates" / f"t{i}.yaml").write_text(HEAD + "{{ range until 100000 }}{{ range until 15 }}"
                                                         "{{ $_ := add 1 1 }}{{ end }}{{ end }}\n")
    exit_code, findings, _peak, _err = _lint(tmp_path, ".")
    errors = [f for f in findings if f["rule"] == "ECR401" and f["path"].startswith("many/")]
    assert len(errors) == 8, errors
    spent = [e for e in errors if "exceeded the render budget: the chart has used all" in e["message"]]
    assert spent and all(e["line"] in (1, 3) for e in spent), errors
    assert any("not rendered" in e["message"] and e["line"] == 1 for e in errors), errors
    assert exit_code == 1
    _ordinary_finding(findings)


def test_the_run_budget_stops_later_charts(tmp_path: Path) -> None:
    # The run budget is per process; scaled down here (the real one is forty charts' worth of work).
    (tmp_path / "pod.yaml").write_text(POD)
    for i in range(4):
        _chart(tmp_path, f"c{i}", HEAD + "{{ range until 100000 }}{{ $_ := add 1 1 }}{{ end }}\n")
    prelude = "import ecrlint.helm.budgets as b\nb.MAX_CHART_WORK = 100_000_000\nb.MAX_RUN_WORK = 250_000_000\n"
    exit_code, findings, _peak, _err = _lint(tmp_path, ".", prelude=prelude)
    messages = [f["message"] for f in findings if f["rule"] == "ECR401"]
    assert len(messages) == 4, messages
    assert sum("the charts of this run (per process) have used all" in m for m in messages) >= 1, messages
    assert exit_code == 1
    _ordinary_finding(findings)


# --- linear scans of template and value text ------------------------------------------------------

REGEX_CASES = {
    # `_is_dynamic` (builtin.py): one lazy regex per unclosed `{{` scanned to the end of the text
    **{f"dynamic-{label}-{size}": ('{{ include "x" . }}\n' + pattern * (size // len(pattern)), {})
       for label, pattern in (("comment", "{{/*"), ("open", "{{"), ("trimmed-comment", "{{- /*"))
       for size in (160_000, 1_000_000)},
    # trace.py: the `image:` lines of a template whose Pod is traced, one with a long run of blanks
    "image-line": (POD + "{{/*\nimage: a" + " " * 200_000 + "b\n*/}}\n", {}),
    # chart.py: a literal after `until` (the check for external engines runs on every chart)
    "until-blanks": (HEAD + "{{/* until" + " " * 200_000 + "x */}}\n", {}),
}


def test_template_text_scans_are_linear(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    for name, (template, files) in REGEX_CASES.items():
        _chart(tmp_path, name, template, files)
    # semver.py: a dependency's version constraint with a long run of blanks (Chart.yaml text)
    _chart(tmp_path, "constraint", HEAD + "data: {}\n")
    (tmp_path / "constraint" / "Chart.yaml").write_text(
        CHART.format(name="constraint") + "dependencies:\n  - name: sub\n    version: \"1" + " " * 200_000 + "x\"\n"
    )
    _chart(tmp_path / "constraint" / "charts", "sub", "data: {}\n")
    # builtin.py: `.Files.Glob` with a pattern a backtracking engine takes exponential time on
    _chart(tmp_path, "glob", HEAD + '{{ (.Files.Glob "' + "*a" * 30 + '*b").AsConfig }}\n', {"a" * 200: "x"})
    exit_code, findings, _peak, _err = _lint(tmp_path, ".")
    for size in (160_000, 1_000_000):
        for label in ("comment", "trimmed-comment"):
            [error] = _render_errors(findings, f"dynamic-{label}-{size}/templates/t.yaml")
            assert "unclosed comment" in error["message"], error
        [error] = _render_errors(findings, f"dynamic-open-{size}/templates/t.yaml")
        assert "template syntax error" in error["message"], error
    assert not _render_errors(findings, "image-line/templates/t.yaml")
    assert any(f["rule"] == "ECR101" and f["path"] == "image-line/templates/t.yaml" for f in findings), findings
    assert not _render_errors(findings, "until-blanks/templates/t.yaml")
    assert not _render_errors(findings, "glob/templates/t.yaml")
    assert exit_code == 1
    _ordinary_finding(findings)


# The regexes these replaced, kept to check the replacements find the same things (small inputs).
OLD_COMMENT = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.S)
OLD_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
OLD_IMAGE_LINE = re.compile(r"""^(\s*(?:-\s+)?["']?image["']?\s*:\s*)(\S.*?)\s*(?:\s#.*)?$""")
OLD_PLACEHOLDER = re.compile(r"\$\{|\{\{|<[^>]*>|REPLACE|CHANGE_?ME|TODO", re.I)
OLD_ALLOCATING = re.compile(r"\b(?:until|untilStep|seq|repeat|randAlpha\w*|randNumeric|randAscii)\s+\(?\s*(\d{6,})")


def test_linear_scans_find_what_the_regexes_found() -> None:
    from ecrlint.helm import builtin, chart, trace

    rng = random.Random(2024)
    pieces = ["{{", "}}", "/*", "*/", "-", " ", "\n", "\t", "\u00a0", "include", ' "x"', "image", ":", "#", "a",
              "'", "<", ">", "until", "(", "1234567", "TODO"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        stripped = OLD_COMMENT.sub("", text)
        assert builtin._strip_comments(text) == stripped, text
        assert builtin._actions(stripped) == OLD_ACTION.findall(stripped), text
        line = text.replace("\n", "")
        old = OLD_IMAGE_LINE.match(line)
        assert trace._image_line(line) == ((len(old.group(1)), len(old.group(1)) + len(old.group(2))) if old else None)
        assert bool(trace._PLACEHOLDER.search(text)) == bool(OLD_PLACEHOLDER.search(text)), text
        assert [m.group(1) for m in chart._ALLOCATING_CALL.finditer(text)] == \
            [m.group(1) for m in OLD_ALLOCATING.finditer(text)], text

    # `.Files.Glob` patterns, now on RE2: the same files match
    def old_glob(pattern: str) -> re.Pattern[str]:
        out, i = [], 0
        while i < len(pattern):
            ch = pattern[i]
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            if ch == "*":
                out.append("[^/]*")
            elif ch == "?":
                out.append("[^/]")
            elif ch == "[" and pattern.find("]", i + 1) > i:
                end = pattern.find("]", i + 1)
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end + 1
                continue
            elif ch == "{" and pattern.find("}", i + 1) > i:
                end = pattern.find("}", i + 1)
                out.append("(?:" + "|".join(re.escape(p) for p in pattern[i + 1 : end].split(",")) + ")")
                i = end + 1
                continue
            else:
                out.append(re.escape(ch))
            i += 1
        return re.compile("".join(out) + r"\Z")

    rng = random.Random(5)
    alphabet = ["*", "**", "?", "[a-c]", "[!a]", "{a,b}", "a", "b", "/", ".", "-", "é", " "]
    names = ["a", "b", "a/b", "ab", "a.b", "b/a/b", "é", "a b", "-", "aab/b", "c", "a/"]
    for _ in range(3_000):
        pattern = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
        old_rx, new_rx = old_glob(pattern), builtin._glob_regex(pattern)
        assert [bool(old_rx.match(n)) for n in names] == [bool(new_rx.match(n)) for n in names], pattern


def test_image_alignment_matches_python_fullmatch() -> None:
    from ecrlint.helm import trace

    leaf = trace.Leaf(None, "values.yaml", "orig", None, "values.yaml")
    rng = random.Random(7)
    chars = ["a", "B", "/", ":", ".", "-", "é", "É", "\n", "@", "ab"]
    for _ in range(5_000):
        pieces: list[Any] = []
        for _ in range(rng.randint(1, 4)):
            pieces += ["".join(rng.choice(chars) for _ in range(rng.randint(0, 3))), leaf]
        pieces.append("".join(rng.choice(chars) for _ in range(rng.randint(0, 3))))
        real = "".join(rng.choice(chars) for _ in range(rng.randint(0, 10)))
        pattern = "".join("(.*?)" if p is leaf else re.escape(p) for p in pieces)
        old = re.fullmatch(pattern, real, re.S | re.I)
        new = trace._match_around(pieces, real)
        groups = pattern.count("(.*?)")
        assert (old and [old.span(i + 1) for i in range(groups)]) == (new and [(new.start(i + 1), new.end(i + 1))
                                                                             for i in range(groups)]), (pieces, real)
    # forty leaves whose literals never line up: Python's backtracking would not come back
    many = [leaf, "x"] * 40
    assert trace._match_around(many, "x" * 5_000 + "y") is None


# --- the same output on every run -------------------------------------------------------------


def test_clock_and_random_functions_give_the_same_output_in_every_run(tmp_path: Path) -> None:
    chart = tmp_path / "app"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART.format(name="app"))
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\n  annotations:\n"
        '    rollme: {{ randAlphaNum 5 | quote }}\n    id: {{ uuidv4 | quote }}\n'
        "spec:\n  containers:\n    - name: app\n"
        '      image: "app:{{ now | date "20060102" }}-{{ randAlphaNum 8 }}-{{ uuidv4 }}-{{ randInt 1 99 }}"\n'
    )
    first = _lint(tmp_path, ".", env={"TZ": "UTC"})  # `date` formats in the local zone, as Helm's does
    second = _lint(tmp_path, ".", env={"TZ": "UTC"})
    assert first[:2] == second[:2]
    images = [f["message"] for f in first[1] if f["rule"] == "ECR101"]
    assert images and "app:20000101-xxxxxxxx-00000000-0000-4000-8000-000000000000-1" in images[0], images


def test_every_nondeterministic_function_is_fixed_in_the_builtin_engine() -> None:
    from ecrlint.helm import builtin
    from ecrlint.helm.nondeterministic import NONDETERMINISTIC_FUNCTIONS

    functions = builtin._functions(builtin.RenderState())
    arguments: dict[str, tuple[Any, ...]] = {
        "randAlpha": (4,), "randAlphaNum": (4,), "randAscii": (4,), "randNumeric": (4,), "randBytes": (4,),
        "randInt": (1, 9), "shuffle": ("abc",), "ago": ("x",), "genCA": ("ca", 1), "genCAWithKey": ("ca", 1, "k"),
        "genSelfSignedCert": ("a", None, None, 1), "genSelfSignedCertWithKey": ("a", None, None, 1, "k"),
        "genSignedCert": ("a", None, None, 1, None), "genSignedCertWithKey": ("a", None, None, 1, None, "k"),
        "genPrivateKey": ("rsa",), "htpasswd": ("user", "pw"), "bcrypt": ("pw",), "encryptAES": ("k", "text"),
    }
    for name in sorted(NONDETERMINISTIC_FUNCTIONS):
        args = arguments.get(name, ())
        assert repr(functions[name](*args)) == repr(functions[name](*args)), name
    assert functions["randAlphaNum"](4) == "xxxx" and functions["randNumeric"](3) == "000"
    assert functions["uuidv4"]() == "00000000-0000-4000-8000-000000000000"
    assert functions["now"]().isoformat() == "2000-01-01T00:00:00+00:00"
    assert functions["randInt"](5, 9) == 5 and functions["shuffle"]("abc") == "abc" and functions["ago"]("x") == "0s"


# --- template functions under budgets, fuzzed --------------------------------------------------

FUZZ_CASES = 120  # seeds 0..119; `make fuzz` runs many more (benchmarks/fuzz.py --templates)


def test_seeded_template_fuzz_cases_end_cleanly(tmp_path: Path) -> None:
    import fuzzing

    report = fuzzing.campaign_in_child(f"run_template_campaign(0, {FUZZ_CASES}, Path(sys.argv[1]), budget_scale=0.1)",
                                       tmp_path, MEMORY_LIMIT, HANG_GUARD)
    assert report["cases"] == FUZZ_CASES
    assert not report["crashes"], "\n".join(f"{c['case']}: {c['error']} at {c['where']}" for c in report["crashes"])
