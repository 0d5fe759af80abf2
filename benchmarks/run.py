"""Benchmark ecrlint against checkov, cfn-lint and the libyaml parse floor, and check its budgets (issue 7)."""

# One entry point: `python benchmarks/run.py [--quick] [--only NAME[,NAME]]`.
#
# Every measurement is a whole process, as a user waits for it in a pre-commit hook or on save:
# wall clock around the child, CPU time and peak RSS from os.wait4. Tools run side by side on the
# same inputs, interleaved round by round (the order rotates each round) so that drift on a shared
# 2-core machine hits every tool alike. The first run of each tool is a warm-up (file cache, .pyc)
# and is discarded unless it took longer than WARMUP_KEEP_S, where caching is noise. Peers live in
# their own virtual environments at pinned versions under benchmarks/.venvs/; a peer that cannot be
# installed is skipped and RESULTS.md says so. Synthetic scale-ups are generated into
# benchmarks/.work/. Nothing is written under ../shared.

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import glob
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENVS = HERE / ".venvs"
WORK = HERE / ".work"
UNMET = HERE / "UNMET.md"  # included in RESULTS.md while a budget fails
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
ECRLINT_VENV = REPO / ".venv"
CORPUS_FOLDERS = ("kubernetes", "cloudformation", "eksctl", "iam", "helm")

# The single files of the one-file budgets: one Deployment manifest and one CloudFormation template of
# median size with a self-managed node group (so the IAM evaluation runs).
ONE_MANIFEST = "kubernetes/aws-lbc__echoserver-deployment.yaml"
ONE_TEMPLATE = "cloudformation/eks-ami__amazon-eks-nodegroup.yaml"

WARMUP_KEEP_S = 5.0
RUN_TIMEOUT_S = 3600.0
SCALE_STAMP_VERSION = 2
MEMORY_FILES = 10_000


@dataclass(frozen=True)
class Peer:
    """A peer tool installed from PyPI into its own venv at a pinned version."""

    name: str
    package: str
    version: str
    exe: str


PEERS = {
    "checkov": Peer("checkov", "checkov", "3.3.30", "checkov"),
    "cfn-lint": Peer("cfn-lint", "cfn-lint", "1.58.0", "cfn-lint"),
}

# checkov: no platform download, no PyPI update check, no API key (offline, as ecrlint). The run is also put
# in an empty network namespace when the machine allows it, so a forgotten call fails fast.
CHECKOV_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
    "LOG_LEVEL": "WARNING",
}
CHECKOV_FRAMEWORKS = ["kubernetes", "cloudformation", "helm"]
# PYTHONDONTWRITEBYTECODE would make ecrlint (an editable install here) recompile every module on
# every run, ~50 ms, while the peers' .pyc files were written by pip: a user's installed ecrlint
# has its .pyc too, so every tool runs with Python's default and the warm-up run writes them.
SCRUBBED_ENV = ("BC_API_KEY", "PRISMA_API_URL", "BC_API_URL", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE",
                "PYTHONPROFILEIMPORTTIME", "PYTHONSTARTUP")


# --- measuring one process ------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One whole-process run."""

    wall: float
    cpu: float
    maxrss_mb: float
    rc: int
    timed_out: bool = False
    killed_mb: float = 0.0  # killed by the memory guard at this tree RSS


def _tree_pids(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    pids: list[int] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(children.get(pid, ()))
    return pids


def _tree_rss_mb(root: int) -> float:
    """Sum RSS over ``root`` and its descendants (cheap: for the runaway-memory guard)."""
    total = 0
    for pid in _tree_pids(root):
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def _tree_pss_mb(root: int) -> float:
    """Sum PSS over ``root`` and its descendants (shared pages counted once)."""
    total_kb = 0
    for pid in _tree_pids(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total_kb += int(line.split()[1])
                        break
        except OSError:
            continue
    return total_kb / 1024


def run_process(cmd: list[str], env: dict[str, str], stdout: Path, stderr: Path, cwd: Path,
                timeout: float = RUN_TIMEOUT_S, sample_tree: bool = False,
                max_rss_mb: float = 0.0) -> tuple[Sample, float]:
    """Run ``cmd`` once; return the sample and, when asked, the peak PSS of its process tree."""
    peak_tree = 0.0
    killed_mb = 0.0
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                start_new_session=True)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        stop = threading.Event()
        sampler = None
        if sample_tree or max_rss_mb:
            # PSS sampling (memory scenario) every 50 ms; otherwise only the runaway guard, every
            # 0.5 s, so that a tool that goes quadratic cannot take the machine down.
            def sample() -> None:
                nonlocal peak_tree, killed_mb
                while not stop.wait(0.05 if sample_tree else 0.5):
                    if sample_tree:
                        peak_tree = max(peak_tree, _tree_pss_mb(proc.pid))
                    if max_rss_mb and (rss := _tree_rss_mb(proc.pid)) > max_rss_mb:
                        killed_mb = rss
                        kill()
                        return
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C or SIGTERM: the child has its own session, end it too
            kill()
            os.wait4(proc.pid, 0)
            timer.cancel()
            stop.set()
            raise
        wall = time.perf_counter() - start
        stop.set()
        timer.cancel()
        if sampler is not None:
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    sample = Sample(wall=wall, cpu=usage.ru_utime + usage.ru_stime,
                    maxrss_mb=usage.ru_maxrss / 1024, rc=proc.returncode,
                    timed_out=killed.is_set() and not killed_mb, killed_mb=killed_mb)
    return sample, peak_tree


# --- tools ----------------------------------------------------------------------------------


@dataclass
class Tool:
    """A command line measured by the harness."""

    name: str
    family: str  # "ecrlint", "checkov", "cfn-lint" or "floor"
    build: Callable[[list[Path], Path], list[str]]  # (paths relative to cwd, cwd) -> argv
    env: dict[str, str] = field(default_factory=dict)
    display: str = ""  # the command template shown in RESULTS.md


def _cfn_templates(paths: list[Path], cwd: Path) -> list[str]:
    files: list[str] = []
    for p in paths:
        if (cwd / p).is_dir():
            files.extend(sorted(str(f.relative_to(cwd)) for f in (cwd / p).rglob("*")
                                if f.suffix in (".yaml", ".yml", ".json")))
        else:
            files.append(str(p))
    return files


def _checkov_targets(paths: list[Path], cwd: Path) -> list[str]:
    args: list[str] = []
    for p in paths:
        args += ["-d" if (cwd / p).is_dir() else "-f", str(p)]
    return args


def make_tools(peer_exes: dict[str, Path], ecrlint_jobs: bool) -> dict[str, Tool]:
    ecrlint = str(ECRLINT_VENV / "bin" / "ecrlint")
    python = str(ECRLINT_VENV / "bin" / "python")
    # One explicit config for every input: otherwise ecrlint would pick up the nearest config
    # upward from the working directory, which differs between the corpus and benchmarks/.work.
    WORK.mkdir(parents=True, exist_ok=True)
    config = WORK / "ecrlint-bench.yaml"
    # `helm.engine: builtin` is what `pip install ecrlint` renders with; the project's venv also has
    # helm-python-sdk (the `ecrlint[helm]` extra, a test dependency), measured as ecrlint-sdk.
    config.write_text("# the benchmark's config: ecrlint's defaults, as installed without extras\n"
                      "fail-on: error\nhelm:\n  engine: builtin\n")
    base = [ecrlint, "check", "--no-color", "--config", str(config)]
    tools: dict[str, Tool] = {
        "ecrlint": Tool("ecrlint", "ecrlint", lambda ps, cwd: [*base, *map(str, ps)],
                        display="ecrlint check --no-color --config benchmarks/.work/ecrlint-bench.yaml PATH..."),
        "floor": Tool("floor", "floor", lambda ps, cwd: [python, str(HERE / "floor.py"), *map(str, ps)],
                      display="python benchmarks/floor.py PATH...  (yaml.compose_all, CSafeLoader)"),
    }
    tools["ecrlint-sdk"] = Tool(
        "ecrlint-sdk", "ecrlint", lambda ps, cwd: [*base, "--helm-engine", "sdk", *map(str, ps)],
        display="ecrlint check --no-color --config benchmarks/.work/ecrlint-bench.yaml --helm-engine sdk PATH...")
    if ecrlint_jobs:
        for n in (1, 2):
            tools[f"ecrlint-j{n}"] = Tool(
                f"ecrlint-j{n}", "ecrlint",
                lambda ps, cwd, n=n: [*base, "--jobs", str(n), *map(str, ps)],
                display=f"ecrlint check --no-color --config benchmarks/.work/ecrlint-bench.yaml --jobs {n} PATH...")
    if "checkov" in peer_exes:
        exe = str(peer_exes["checkov"])
        tools["checkov"] = Tool(
            "checkov", "checkov",
            lambda ps, cwd, exe=exe: [exe, "--skip-download", "--framework", *CHECKOV_FRAMEWORKS, "--compact",
                                      "--quiet", *_checkov_targets(ps, cwd)],
            env=CHECKOV_ENV,
            display="checkov --skip-download --framework kubernetes cloudformation helm --compact --quiet "
                    "(-f FILE | -d DIR)...")
    if "checkov" in peer_exes:
        exe = str(peer_exes["checkov"])
        tools["checkov-tf"] = Tool(
            "checkov-tf", "checkov",
            lambda ps, cwd, exe=exe: [exe, "--skip-download", "--framework", "terraform", "--compact", "--quiet",
                                      *_checkov_targets(ps, cwd)],
            env=CHECKOV_ENV,
            display="checkov --skip-download --framework terraform --compact --quiet (-f FILE | -d DIR)...")
    if "cfn-lint" in peer_exes:
        exe = str(peer_exes["cfn-lint"])
        tools["cfn-lint"] = Tool("cfn-lint", "cfn-lint", lambda ps, cwd, exe=exe: [exe, *_cfn_templates(ps, cwd)],
                                 display="cfn-lint TEMPLATE...")
    return tools


def summarise_output(family: str, stdout: Path, stderr: Path) -> str:
    """A short account of what the tool reported, to show it did the work."""
    try:
        text = stdout.read_text(errors="replace")
    except OSError:
        return ""
    if family == "ecrlint":
        n = sum(1 for line in text.splitlines() if re.match(r".+:\d+:\d+: ECR\d{3} ", line))
        return f"{n} findings"
    if family == "checkov":
        passed = sum(int(x) for x in re.findall(r"Passed checks: (\d+)", text))
        failed = sum(int(x) for x in re.findall(r"Failed checks: (\d+)", text))
        errors = sum(int(x) for x in re.findall(r"Parsing errors: (\d+)", text))
        if "Passed checks:" not in text:
            return "NO SCAN SUMMARY (see benchmarks/.work/logs)"
        return f"{passed} passed, {failed} failed checks, {errors} parse errors"
    if family == "cfn-lint":
        n = sum(1 for line in text.splitlines() if re.match(r"[EWI]\d{4} ", line))
        return f"{n} findings"
    if family == "floor":
        try:
            info = json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return ""
        return (f"{info['files']} files, {info['documents']} documents, {info['errors']} not YAML; "
                f"in-process parse {info['parse_seconds']:.3f} s")
    return ""


# --- peers' virtual environments ------------------------------------------------------------


def _installed_version(venv: Path, package: str) -> str | None:
    norm = package.replace("-", "_").lower()
    for info in glob.glob(str(venv / "lib" / "python*" / "site-packages" / "*.dist-info")):
        name, _, version = Path(info).name[: -len(".dist-info")].rpartition("-")
        if name.replace("-", "_").lower() == norm:
            return version
    return None


def ensure_peer(peer: Peer, log: Callable[[str], None]) -> tuple[Path | None, str]:
    """Return the peer's executable, creating its venv when absent; or None and why not."""
    venv = VENVS / peer.name
    exe = venv / "bin" / peer.exe
    if exe.exists() and _installed_version(venv, peer.package) == peer.version:
        return exe, ""
    base_python = getattr(sys, "_base_executable", sys.executable)
    log(f"installing {peer.package}=={peer.version} into {_show_path(venv)} (may take minutes)")
    VENVS.mkdir(parents=True, exist_ok=True)
    steps = [[base_python, "-m", "venv", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              f"{peer.package}=={peer.version}"]]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{' '.join(step[:3])}: {exc}"
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            why = next((ln for ln in lines if ln.startswith("ERROR:")), lines[-1] if lines else "no output")
            return None, f"`{' '.join(step[:4])}` failed: {why.split(' (from versions')[0][:200]}"
    if not exe.exists() or _installed_version(venv, peer.package) != peer.version:
        return None, f"{peer.package}=={peer.version} did not install an executable {peer.exe}"
    return exe, ""


# --- inputs ---------------------------------------------------------------------------------


def _walk_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for root in paths:
        if root.is_file():
            files.append(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "node_modules"]
            files.extend(Path(dirpath, f) for f in filenames if not f.startswith("."))
    return files


def _fingerprint(root: Path) -> str:
    files = _walk_files([root / f for f in CORPUS_FOLDERS if (root / f).exists()])
    size = sum(f.stat().st_size for f in files)
    return f"v{SCALE_STAMP_VERSION}:{len(files)}:{size}"


def _copy_variant(src: Path, dst: Path, copy: int) -> None:
    # Each copy differs from the others by a comment (a Go-template comment in chart templates,
    # which renders to nothing; trailing blanks in JSON) so no cache keyed on file content can
    # fold the copies together; in real repositories nearly every file is distinct.
    data = src.read_bytes()
    if data and not data.endswith(b"\n"):
        data += b"\n"
    if "templates" in src.parts and "helm" in src.parts and src.suffix in (".yaml", ".yml", ".tpl", ".txt"):
        data += b"{{/* ecrlint benchmark copy %d */}}\n" % copy
    elif src.suffix in (".yaml", ".yml"):
        data += b"# ecrlint benchmark copy %d\n" % copy
    elif src.suffix == ".json":
        data += b" " * (copy + 1) + b"\n"
    dst.write_bytes(data)


def generate_copies(corpus: Path, name: str, copies: int, folders: tuple[str, ...],
                    log: Callable[[str], None]) -> Path:
    """Lay corpus folders under benchmarks/.work/NAME, once or ``copies`` times (cached by stamp)."""
    target = WORK / name
    stamp = target.parent / f".{name}.stamp"
    want = f"{_fingerprint(corpus)}:{copies}:{','.join(folders)}"
    if target.is_dir() and stamp.exists() and stamp.read_text() == want:
        return target
    log(f"generating {target.relative_to(REPO)} ({copies} cop{'y' if copies == 1 else 'ies'} of {', '.join(folders)})")
    if target.exists():
        shutil.rmtree(target)
    sources = [(f, f.relative_to(corpus)) for f in _walk_files(corpus / d for d in folders)]
    for i in range(copies):
        # One copy is laid verbatim; several go under copy-NNN/ and differ by a comment each.
        base = target if copies == 1 else target / f"copy-{i:03d}"
        for src, rel in sources:
            dst = base / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if copies == 1:
                shutil.copyfile(src, dst)
            else:
                _copy_variant(src, dst, i)
    stamp.write_text(want)
    return target


# Short names for the headline table.
LABELS = {
    "manifest": "one manifest",
    "template": "one template",
    "templates": "39 CloudFormation templates",
    "k8s-cfn": "corpus k8s + CloudFormation",
    "helm": "10 Helm charts",
    "corpus": "whole corpus",
    "corpus-10x": "corpus × 10",
    "files-10k": "corpus copies, ≥ 10,000 files",
    "corpus-100x": "corpus × 100",
}


@dataclass
class Scenario:
    """One input measured with several tools."""

    name: str
    title: str
    tools: list[str]
    paths: Callable[[], list[Path]]
    full_only: bool = False
    sample_tree_memory: bool = False
    # Copies of the whole corpus (for estimating a slow peer's cost and checking the findings).
    scale: float = 1.0


def terraform_scenarios(tree: Path | None) -> list[Scenario]:
    """Terraform rows (issue 17), against ``checkov --framework terraform``: only with ``--terraform DIR``
    (the shared corpus holds no .tf files; a checkout of real Terraform is named on the command line).
    The floor (a YAML parse) does not apply."""
    if tree is None:
        return []
    modules = sorted({p.parent for p in tree.rglob("*.tf")})
    biggest = max(modules, key=lambda d: sum(f.stat().st_size for f in d.glob("*.tf"))) if modules else tree
    return [
        # the module's own .tf files: its directory would bring every module below it (the tree's
        # root module is usually the largest, and its subdirectories are modules of their own)
        Scenario("tf-module", f"the largest Terraform module of the tree (`{biggest.relative_to(tree.parent)}`, "
                 "its own .tf files)", ["ecrlint", "checkov-tf"], lambda: sorted(biggest.glob("*.tf"))),
        Scenario("terraform", f"a tree of real Terraform (`{tree.name}`, {len(modules)} module directories)",
                 ["ecrlint", "ecrlint-j1", "checkov-tf"], lambda: [tree]),
    ]


def make_scenarios(corpus: Path, log: Callable[[str], None]) -> list[Scenario]:
    # Every multi-file input is one root directory: checkov given several -d roots runs its
    # frameworks per root and repeats work (16 s for `-d kubernetes -d cloudformation` against
    # 11 s for `-d corpus` here), so each tool gets a single root, checkov's fastest form.
    c = corpus
    everything = CORPUS_FOLDERS
    copies_10k = math.ceil(MEMORY_FILES / max(1, len(_walk_files(c / d for d in everything))))
    return [
        Scenario("manifest", f"one Kubernetes manifest (`{ONE_MANIFEST}`)",
                 ["ecrlint", "ecrlint-j1", "checkov", "floor"], lambda: [c / ONE_MANIFEST]),
        Scenario("template", f"one CloudFormation template (`{ONE_TEMPLATE}`)",
                 ["ecrlint", "cfn-lint", "checkov", "floor"], lambda: [c / ONE_TEMPLATE]),
        Scenario("templates", "the corpus's 39 CloudFormation templates (`cloudformation/`)",
                 ["ecrlint", "cfn-lint", "checkov", "floor"], lambda: [c / "cloudformation"]),
        Scenario("k8s-cfn", "corpus `kubernetes/` + `cloudformation/` under one root (issue 7's 387-file baseline)",
                 ["ecrlint", "checkov", "floor"],
                 lambda: [generate_copies(c, "k8s-cfn", 1, ("kubernetes", "cloudformation"), log)]),
        Scenario("helm", "the corpus's 10 Helm charts (`helm/`)",
                 ["ecrlint", "ecrlint-sdk", "checkov", "floor"], lambda: [c / "helm"]),
        Scenario("corpus", "the whole shared corpus (kubernetes, cloudformation, eksctl, iam, helm)",
                 ["ecrlint", "ecrlint-j1", "ecrlint-j2", "ecrlint-sdk", "checkov", "floor"], lambda: [c]),
        Scenario("corpus-10x", "10 copies of the whole corpus (generated)",
                 ["ecrlint", "ecrlint-j1", "ecrlint-j2", "checkov", "floor"],
                 lambda: [generate_copies(c, "corpus-10x", 10, everything, log)], scale=10),
        Scenario("files-10k", f"{copies_10k} copies of the corpus, at least {MEMORY_FILES:,} files (memory budget)",
                 ["ecrlint", "ecrlint-j1", "floor"],
                 lambda: [generate_copies(c, "files-10k", copies_10k, everything, log)], sample_tree_memory=True,
                 scale=copies_10k),
        Scenario("corpus-100x", "100 copies of the whole corpus (generated)",
                 ["ecrlint", "ecrlint-j1", "ecrlint-j2", "checkov", "floor"],
                 lambda: [generate_copies(c, "corpus-100x", 100, everything, log)], full_only=True, scale=100),
    ]


# --- running a scenario ---------------------------------------------------------------------


@dataclass
class Cell:
    """All runs of one tool on one scenario."""

    tool: str
    samples: list[Sample] = field(default_factory=list)
    warmup: Sample | None = None
    output: str = ""
    skipped: str = ""
    tree_pss_mb: float = 0.0

    @property
    def valid(self) -> list[Sample]:
        """Runs that finished on their own (a killed or timed-out run measures nothing)."""
        return [s for s in self.samples if not s.timed_out and not s.killed_mb]

    @property
    def walls(self) -> list[float]:
        return [s.wall for s in self.valid]

    @property
    def median(self) -> float:
        return statistics.median(self.walls) if self.valid else math.nan

    def to_json(self) -> dict:
        return {"tool": self.tool, "samples": [dataclasses.asdict(s) for s in self.samples],
                "warmup": dataclasses.asdict(self.warmup) if self.warmup else None,
                "median": None if math.isnan(self.median) else self.median,
                "output": self.output, "skipped": self.skipped, "tree_pss_mb": self.tree_pss_mb}


@dataclass
class ScenarioResult:
    name: str
    title: str
    files: int
    size: int
    paths: list[str]
    cells: dict[str, Cell]
    scale: float = 1.0
    label: str = ""


def _findings(cell: Cell | None) -> int | None:
    m = re.match(r"(\d+) findings", cell.output) if cell else None
    return int(m.group(1)) if m else None


def sanity(results: dict[str, ScenarioResult]) -> list[str]:
    """A scale-up must report the corpus's findings once per copy, or it measured something else."""
    base = _findings(results["corpus"].cells.get("ecrlint")) if "corpus" in results else None
    out = []
    for r in results.values():
        if r.scale <= 1 or base is None:
            continue
        got, want = _findings(r.cells.get("ecrlint")), int(base * r.scale)
        if got is not None:
            verdict = ("as expected" if got == want else
                       "MISMATCH: the copies were not linted alike, or ecrlint changed during the run")
            out.append(f"- `{r.name}`: ecrlint reported {got:,} findings; {r.scale:g} × the corpus's {base:,} "
                       f"= {want:,}: {verdict}")
    return out


@dataclass(frozen=True)
class Plan:
    """How much to run: targets in seconds of measuring per tool and scenario."""

    target_s: float
    min_runs: int
    max_runs: int
    peer_limit_s: float  # skip a peer whose estimated single run exceeds this
    slow_s: float  # a tool whose warm-up took longer is measured by that one run


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["NO_COLOR"] = "1"
    return env


def run_scenario(sc: Scenario, tools: dict[str, Tool], wanted_tools: set[str] | None, plan: Plan,
                 netns: list[str], estimates: dict[str, float], log: Callable[[str], None],
                 fixed_runs: int | None, max_rss_mb: float) -> ScenarioResult:
    paths = sc.paths()
    files = _walk_files(paths)
    # Tools run from the inputs' parent with relative paths: checkov's kubernetes framework skips
    # any file whose absolute path has a hidden component (benchmarks/.work/...), and every tool
    # then prints the same short paths.
    cwd = Path(os.path.commonpath([p.parent for p in paths]))
    rel = [p.relative_to(cwd) for p in paths]
    cells: dict[str, Cell] = {}
    active: list[str] = []
    for name in sc.tools:
        cell = cells.setdefault(name, Cell(name))
        if wanted_tools is not None and name not in wanted_tools and name != "floor":
            cell.skipped = "not selected (--only)"
        elif name not in tools:
            cell.skipped = "tool unavailable (see Skipped)"
        elif name == "checkov" and name in estimates and estimates[name] * sc.scale > plan.peer_limit_s:
            cell.skipped = (f"not run: estimated {estimates[name] * sc.scale:,.0f} s per run "
                            f"({sc.scale:g}x its whole-corpus median), over the {plan.peer_limit_s:,.0f} s limit")
        else:
            active.append(name)
    logs = WORK / "logs" / sc.name
    logs.mkdir(parents=True, exist_ok=True)

    def once(name: str, sample_tree: bool = False) -> tuple[Sample, float]:
        tool = tools[name]
        env = base_env() | tool.env
        cmd = netns + tool.build(rel, cwd)
        sample, tree = run_process(cmd, env, logs / f"{name}.stdout", logs / f"{name}.stderr", cwd,
                                   sample_tree=sample_tree, max_rss_mb=max_rss_mb)
        flag = " TIMEOUT" if sample.timed_out else f" KILLED at {sample.killed_mb:,.0f} MB" if sample.killed_mb else ""
        log(f"  {sc.name:12s} {name:11s} {sample.wall:8.3f} s  rc={sample.rc}  rss={sample.maxrss_mb:6.1f} MB{flag}")
        return sample, tree

    # Warm-up round, then decide each tool's run count from its warm-up time.
    remaining: dict[str, int] = {}
    for name in active:
        sample, _ = once(name)
        cell = cells[name]
        cell.warmup = sample
        if fixed_runs is not None:
            runs = fixed_runs
        else:
            runs = min(plan.max_runs, max(plan.min_runs, round(plan.target_s / max(sample.wall, 1e-3))))
        if sample.wall > plan.slow_s and fixed_runs is None:
            runs = 1
        failed = sample.timed_out or bool(sample.killed_mb)
        if sample.wall > WARMUP_KEEP_S or failed:
            cell.samples.append(sample)
            runs -= 1
        remaining[name] = 0 if failed else max(0, runs)
    order = list(active)
    rnd = 0
    while any(remaining.values()):
        rotated = order[rnd % len(order):] + order[: rnd % len(order)]
        for name in rotated:
            if remaining[name] > 0:
                sample, _ = once(name)
                cells[name].samples.append(sample)
                remaining[name] -= 1
        rnd += 1
    if sc.sample_tree_memory and "ecrlint" in active:
        # One extra, untimed run that sums PSS over ecrlint's process tree (workers included).
        _, tree = once("ecrlint", sample_tree=True)
        cells["ecrlint"].tree_pss_mb = tree
    for name in active:
        cells[name].output = summarise_output(tools[name].family, logs / f"{name}.stdout", logs / f"{name}.stderr")
        if tools[name].family == "ecrlint":
            bad = [s.rc for s in cells[name].samples if s.rc not in (0, 1)]
            if bad:
                err = (logs / f"{name}.stderr").read_text(errors="replace").strip().splitlines()[-1:]
                cells[name].output += f"; exit {bad[0]}: {' '.join(err)[:200]}"
    size = sum(f.stat().st_size for f in files)
    return ScenarioResult(sc.name, sc.title, len(files), size, [_show_path(p) for p in paths], cells, sc.scale,
                          LABELS.get(sc.name, sc.name))


def _show_path(p: Path) -> str:
    for base, label in ((REPO, ""), (REPO.parent, "../")):
        try:
            return label + str(p.relative_to(base))
        except ValueError:
            continue
    return str(p)


# --- environment facts ----------------------------------------------------------------------


def machine_facts() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    osname = platform.system()
    try:
        osname = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text()).group(1)  # type: ignore[union-attr]
    except (OSError, AttributeError):
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": mem, "os": osname,
            "kernel": platform.release(), "python": platform.python_version(), "load": _load()}


def _load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _capture(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def source_digest() -> str:
    """A digest of ecrlint's source, to tell whether it changed while the benchmark ran."""
    import hashlib

    digest = hashlib.sha256()
    for folder in ("linter", "rules"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.suffix in (".py", ".json", ".txt") and "__pycache__" not in path.parts:
                digest.update(path.as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def ecrlint_facts() -> dict[str, str]:
    python = str(ECRLINT_VENV / "bin" / "python")
    info = _capture([python, "-c", "import ecrlint, yaml; print(ecrlint.__version__, yaml.__version__, yaml.__with_libyaml__)"])
    parts = info.split()
    helm = _capture([python, "-c", "import importlib.metadata as m\n"
                     "for d in ('helm-python-sdk', 'gotpl'):\n"
                     "    try: print(f'{d} {m.version(d)}')\n"
                     "    except m.PackageNotFoundError: print(f'{d} not installed')"])
    commit = _capture(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = _capture(["git", "-C", str(REPO), "status", "--porcelain"])
    return {"ecrlint": parts[0] if parts else "unknown", "pyyaml": parts[1] if len(parts) > 1 else "unknown",
            "libyaml": parts[2] if len(parts) > 2 else "unknown",
            "commit": (commit or "no commit") + (" + uncommitted changes" if dirty else ""),
            "helm": ", ".join(helm.splitlines()) or "unknown"}


def ecrlint_ready(corpus: Path) -> tuple[bool, bool, str]:
    """Whether `ecrlint check` works (JSON output with findings) and whether it has --jobs."""
    exe = ECRLINT_VENV / "bin" / "ecrlint"
    if not exe.exists():
        return False, False, f"{exe} not found"
    try:
        done = subprocess.run([str(exe), "check", "--format", "json", str(corpus / ONE_MANIFEST)],
                              capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, False, str(exc)
    try:
        ok = "findings" in json.loads(done.stdout)
    except ValueError:
        ok = False
    if not ok:
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}, no JSON report"])[-1]
        return False, False, f"`ecrlint check --format json` gave no report ({why[:200]})"
    helptext = _capture([str(exe), "check", "--help"])
    return True, "--jobs" in helptext, ""


def netns_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


# --- report ---------------------------------------------------------------------------------


def _fmt_s(x: float) -> str:
    if math.isnan(x):
        return "—"
    return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def _fmt_x(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:.1f}×"


def budgets(results: dict[str, ScenarioResult]) -> list[tuple[str, str, str]]:
    """The speed, scale and memory budgets as (budget, measured, verdict); each row's label states its budget."""
    def med(sc: str, tool: str) -> float:
        r = results.get(sc)
        return r.cells[tool].median if r and tool in r.cells else math.nan

    def why_missing(sc: str, *tools: str) -> str:
        r = results.get(sc)
        if r is None:
            return f"scenario `{sc}` not run"
        for t in tools:
            c = r.cells.get(t)
            if c is None or not c.valid:
                if c is not None and c.samples:
                    return f"`{t}` on `{sc}`: every run was killed or timed out"
                return f"`{t}` on `{sc}`: {c.skipped if c and c.skipped else 'no samples'}"
        return "not measured"

    def row(label: str, value: float, text: str, ok: bool | None, sc: str, *tools: str) -> tuple[str, str, str]:
        if math.isnan(value):
            return label, "—", f"n/a ({why_missing(sc, *tools)})"
        return label, text, "PASS" if ok else "FAIL"

    out = []
    m = med("manifest", "ecrlint")
    out.append(row("one manifest: median ≤ 0.20 s", m, _fmt_s(m), m <= 0.20, "manifest", "ecrlint"))
    r = _ratio(med("template", "cfn-lint"), med("template", "ecrlint"))
    out.append(row("one template: ≥ 5× faster than cfn-lint", r, _fmt_x(r), r >= 5, "template", "ecrlint", "cfn-lint"))
    r = _ratio(med("manifest", "checkov"), m)
    out.append(row("one manifest: ≥ 10× faster than checkov -f", r, _fmt_x(r), r >= 10, "manifest", "ecrlint", "checkov"))
    r = _ratio(med("corpus", "checkov"), med("corpus", "ecrlint"))
    out.append(row("corpus: ≥ 20× faster than checkov", r, _fmt_x(r), r >= 20, "corpus", "ecrlint", "checkov"))
    r = _ratio(med("corpus", "ecrlint"), med("corpus", "floor"))
    out.append(row("corpus: ≤ 2.5× the parse floor", r, _fmt_x(r), r <= 2.5, "corpus", "ecrlint", "floor"))
    for tool, label in (("ecrlint", "default --jobs"), ("ecrlint-j1", "--jobs 1")):
        r = _ratio(med("corpus-10x", tool), med("corpus", tool))
        out.append(row(f"10× the files ≤ 11× the time ({label})", r, _fmt_x(r), r <= 11, "corpus-10x", tool))
    mem = results.get("files-10k")
    if mem and mem.cells.get("ecrlint-j1") and mem.cells["ecrlint-j1"].samples:
        rss = max(max(s.maxrss_mb, s.killed_mb) for s in mem.cells["ecrlint-j1"].samples)
        out.append((f"peak memory ≤ 200 MB at {mem.files:,} files (--jobs 1, peak RSS)", f"{rss:.0f} MB",
                    "PASS" if rss <= 200 else "FAIL"))
    else:
        out.append(row("peak memory ≤ 200 MB at 10,000 files (--jobs 1)", math.nan, "", None, "files-10k", "ecrlint-j1"))
    if mem and mem.cells.get("ecrlint") and mem.cells["ecrlint"].tree_pss_mb:
        pss = mem.cells["ecrlint"].tree_pss_mb
        out.append((f"peak memory ≤ 200 MB at {mem.files:,} files (default --jobs, PSS summed over workers)",
                    f"{pss:.0f} MB", "PASS" if pss <= 200 else "FAIL"))
    for sc in ("corpus-10x", "corpus-100x"):
        if sc in results:
            r = _ratio(med(sc, "ecrlint-j1"), med(sc, "ecrlint-j2"))
            out.append(row(f"{sc}: --jobs 2 ≥ 1.6× faster than --jobs 1", r, _fmt_x(r), r >= 1.6, sc,
                           "ecrlint-j1", "ecrlint-j2"))
    d, j1 = med("manifest", "ecrlint"), med("manifest", "ecrlint-j1")
    extra = d - j1
    # The budget "no pool start-up cost" has no number; read it as: the default on one file is
    # within 10 ms (or 5 %) of an explicit --jobs 1.
    out.append(row("one manifest: no pool start-up (default − --jobs 1 ≤ max(10 ms, 5 %))", extra,
                   f"{extra * 1000:+.0f} ms", extra <= max(0.010, 0.05 * j1), "manifest", "ecrlint", "ecrlint-j1"))
    return out


def _cell_row(cell: Cell, ecr: float, floor: float) -> str:
    if not cell.samples:
        return f"| {cell.tool} | — | — | — | — | — | — | {cell.skipped or 'no samples'} |"
    walls = cell.walls or [math.nan]
    measured = cell.valid or cell.samples
    cpu = statistics.median(s.cpu for s in measured)
    rss = max(s.maxrss_mb for s in measured)
    if math.isnan(ecr) or math.isnan(cell.median):
        rel = "—"
    elif cell.tool == "floor":
        rel = f"ecrlint is {_fmt_x(_ratio(ecr, floor))} the floor"
    elif cell.tool.startswith("ecrlint"):
        rel = "—" if cell.tool == "ecrlint" else f"{_fmt_x(_ratio(cell.median, ecr))} of default"
    else:
        rel = f"ecrlint {_fmt_x(_ratio(cell.median, ecr))} faster"
    rcs = sorted({s.rc for s in cell.samples})
    note = cell.output + (f"; exit {','.join(map(str, rcs))}" if cell.output else f"exit {','.join(map(str, rcs))}")
    if cell.tree_pss_mb:
        note += f"; tree PSS peak {cell.tree_pss_mb:.0f} MB"
    if any(s.timed_out for s in cell.samples):
        note += f"; TIMED OUT after {RUN_TIMEOUT_S:,.0f} s"
    if any(s.killed_mb for s in cell.samples):
        note += f"; KILLED by the harness at {max(s.killed_mb for s in cell.samples):,.0f} MB (process tree RSS)"
    return (f"| {cell.tool} | {_fmt_s(cell.median)} | {_fmt_s(min(walls))} – {_fmt_s(max(walls))} | {len(cell.valid)} "
            f"| {cpu:.2f} s | {rss:.0f} MB | {rel} | {note} |")


def headline(results: dict[str, ScenarioResult]) -> list[str]:
    lines = ["| input | files | ecrlint | checkov | cfn-lint | parse floor |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in results.values():
        ecr = r.cells.get("ecrlint")
        e = ecr.median if ecr else math.nan

        def col(tool: str) -> str:
            c = r.cells.get(tool)
            if c is None:
                return ""
            if not c.samples:
                return "not run"
            if not c.valid:
                killed = max(s.killed_mb for s in c.samples)
                return f"killed at {killed / 1024:.1f} GB RSS" if killed else "timed out"
            x = _ratio(c.median, e)
            if tool in ("floor", "ecrlint") or math.isnan(x):
                return _fmt_s(c.median)
            return f"{_fmt_s(c.median)} ({_fmt_x(x)} slower)"
        lines.append(f"| {r.label} | {r.files:,} | {col('ecrlint')} | {col('checkov')} | {col('cfn-lint')} | {col('floor')} |")
    return lines


def write_reports(results: dict[str, ScenarioResult], meta: dict, tools: dict[str, Tool], out: Path,
                  readme: Path | None) -> None:
    m, v = meta["machine"], meta["versions"]
    lines = [
        "# ecrlint benchmarks",
        "",
        f"Written by `python benchmarks/run.py{meta['argv']}` ({meta['mode']} mode) on {meta['date']}. "
        "Re-run it to refresh this file; `--quick` takes a few minutes.",
        "",
        *(["**Warning: ecrlint's source changed while this ran, so the inputs were measured with different "
            "versions; re-run on a settled tree.**", ""] if meta.get("source_changed") else []),
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| memory | {m['memory']} |",
        f"| load average (1/5/15 min) | at start {m['load']}; at end {meta['load_end']} (other work on the machine skews results) |",
        f"| OS | {m['os']}, kernel {m['kernel']} |",
        f"| Python | {m['python']} (every tool runs on the same interpreter, each in its own venv) |",
        f"| ecrlint | {v['ecrlint']} ({v['commit']}) |",
        f"| PyYAML | {v['pyyaml']}, libyaml: {v['libyaml']} |",
        f"| ecrlint's Helm engines | {v['helm']} (`ecrlint` rows render with the built-in engine, as `pip install ecrlint` does; `ecrlint-sdk` rows with helm-python-sdk, as `ecrlint[helm]` users get by default) |",
    ]
    for name, peer in PEERS.items():
        state = meta["peers"].get(name, "")
        lines.append(f"| {name} | {peer.version} (pinned){'; ' + state if state else ''} |")
    lines += [
        f"| helm binary | {meta['helm'] or 'absent: checkov skips its helm framework without one, so its helm numbers are parse-only'} |",
        f"| network | {'each run in an empty network namespace (`unshare -n`)' if meta['netns'] else 'not isolated (unshare unavailable); checkov told not to download'} |",
        "",
        "## Method",
        "",
        "- Wall clock of the whole process (interpreter start-up, imports, output), as a pre-commit hook "
        "or an editor waits for it. CPU is user + system time of the process and its children; peak RSS is "
        "`ru_maxrss` from `os.wait4` — for a process pool that is the largest single process, so the memory "
        "scenario also sums PSS over the process tree in one extra run.",
        "- Tools run side by side on the same paths, interleaved round by round with the order rotated each "
        "round. Each tool's first run is a warm-up and is discarded (file cache and `.pyc` warm), unless it "
        f"took over {WARMUP_KEEP_S:g} s. Run counts adapt to each tool's cost and are shown per cell.",
        "- Every tool runs with Python's defaults: `PYTHONDONTWRITEBYTECODE` and `PYTHONPATH` are removed from "
        "the environment, so ecrlint's warm-up writes its `.pyc` files as an installed wheel would have them "
        "(the peers' were written by pip). ecrlint runs from the project's editable install "
        "(`.venv/bin/ecrlint`), whose `.pth` import hook costs about 10 ms of start-up that a wheel install does not pay.",
        "- The parse floor (`benchmarks/floor.py`) is one Python process that reads every `.yaml`/`.yml`/`.json` "
        "file under the same paths and runs `yaml.compose_all` with `CSafeLoader` over it, nothing else. "
        "Helm templates are not YAML before rendering; the floor pays what libyaml spends before it gives up.",
        "- Scale-ups are copies of the corpus folders under `benchmarks/.work/` (git-ignored); every copied "
        "file gets a distinct trailing comment (a Go-template comment in chart templates, blanks after JSON) so "
        "no cache keyed on file content can fold the copies together.",
        "- checkov runs with `--skip-download`, `BC_SKIP_MAPPING=TRUE`, `CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE` "
        "and no API key, frameworks kubernetes, cloudformation, helm (offline, as ecrlint). A slow peer is not run when "
        f"its estimated single run (its corpus median × the scale) exceeds {meta['peer_limit']:,.0f} s.",
        "",
        "## Budgets",
        "",
        "| budget | measured | verdict |",
        "|---|---:|---|",
    ]
    verdicts = budgets(results)
    lines += [f"| {a} | {b} | {c} |" for a, b, c in verdicts]
    if any(c == "FAIL" for _a, _b, c in verdicts) and UNMET.is_file():
        # What was tried and what stands in the way: written by hand, kept with the script.
        lines += ["", UNMET.read_text().strip()]
    checks = sanity(results)
    if checks:
        lines += ["", "Scale-up sanity (same findings once per copy):", ""] + checks
    lines += ["", "## Headline (medians)", ""] + headline(results)
    lines += ["", "## Results by input", ""]
    for r in results.values():
        ecr = r.cells["ecrlint"].median if "ecrlint" in r.cells else math.nan
        floor = r.cells["floor"].median if "floor" in r.cells else math.nan
        lines += [f"### {r.name}: {r.title}", "",
                  f"{r.files:,} files, {r.size / 1e6:.1f} MB; paths: {', '.join(f'`{p}`' for p in r.paths)}", "",
                  "| tool | median | min – max | runs | CPU (median) | peak RSS | relative | output |",
                  "|---|---:|---:|---:|---:|---:|---|---|"]
        lines += [_cell_row(c, ecr, floor) for c in r.cells.values()]
        lines.append("")
    lines += ["## Commands", ""]
    for t in tools.values():
        env = " ".join(f"{k}={val}" for k, val in t.env.items())
        lines.append(f"- **{t.name}**: `{(env + ' ') if env else ''}{t.display}`")
    if meta["skipped"]:
        lines += ["", "## Skipped", ""] + [f"- {s}" for s in meta["skipped"]]
    out.write_text("\n".join(lines).rstrip() + "\n")
    if readme is not None:
        section = [
            "## Benchmarks",
            "",
            "ecrlint is built to answer inside a pre-commit hook or on save. Whole-process medians on a "
            f"{m['cores']}-core {m['cpu']} machine, {meta['date'][:10]}, side by side with "
            f"checkov {PEERS['checkov'].version} and cfn-lint {PEERS['cfn-lint'].version} on the same files "
            "(the parse floor is a bare libyaml `compose_all` over the same YAML in one process):",
            "",
        ] + headline(results) + [
            "",
            "The full tables (runs, min–max, CPU, peak memory, the budgets) and the method are in "
            "[benchmarks/RESULTS.md](benchmarks/RESULTS.md). Reproduce with `python benchmarks/run.py` "
            "(`--quick` for a few minutes; it installs the pinned peers into `benchmarks/.venvs/`).",
        ]
        readme.write_text("\n".join(section) + "\n")


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer runs, skip the 100x scale-up (a few minutes)")
    ap.add_argument("--only", default="", help="comma-separated scenario and/or tool names (floor always runs)")
    ap.add_argument("--runs", type=int, default=None, help="measured runs per tool (default: adaptive)")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the shared corpus (read only)")
    ap.add_argument("--terraform", type=Path, default=None,
                    help="a tree of real .tf files: adds the Terraform rows against checkov --framework terraform")
    ap.add_argument("--output", type=Path, default=None,
                    help="report path (default benchmarks/RESULTS.md; with --only, benchmarks/.work/RESULTS-only.md)")
    ap.add_argument("--max-rss-mb", type=float, default=4096,
                    help="kill a run whose process tree RSS exceeds this (default 4096; 0: no guard)")
    ap.add_argument("--list", action="store_true", help="list scenarios and tools, then exit")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite RESULTS.md and README_SECTION.md from the last complete run's "
                         "benchmarks/.work/results.json, measuring nothing")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    corpus = args.corpus.resolve()
    if not corpus.is_dir():
        log(f"corpus not found at {corpus}; pass --corpus")
        return 2
    scenarios = make_scenarios(corpus, log) + terraform_scenarios(args.terraform.resolve() if args.terraform else None)
    if args.report_only:
        return report_only(scenarios, log)
    all_tools = ["ecrlint", "ecrlint-j1", "ecrlint-j2", "ecrlint-sdk", "checkov", "checkov-tf", "cfn-lint", "floor"]
    if args.list:
        for sc in scenarios:
            print(f"{sc.name:12s} {sc.title}{'  [full only]' if sc.full_only else ''}\n{'':12s} tools: {', '.join(sc.tools)}")
        return 0
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    unknown = only - {s.name for s in scenarios} - set(all_tools)
    if unknown:
        log(f"--only: unknown name(s) {', '.join(sorted(unknown))}; see --list")
        return 2
    wanted_scenarios = only & {s.name for s in scenarios} or None
    wanted_tools = only & set(all_tools) or None
    if wanted_tools is not None:
        # An ecrlint variant without the default run gives no baseline for ratios.
        wanted_tools |= {"ecrlint"} if any(t.startswith("ecrlint") for t in wanted_tools) else set()
    selected = [s for s in scenarios
                if (wanted_scenarios is None or s.name in wanted_scenarios)
                and (not args.quick or not s.full_only or (wanted_scenarios and s.name in wanted_scenarios))]
    needed = {t for s in selected for t in s.tools if wanted_tools is None or t in wanted_tools}
    WORK.mkdir(parents=True, exist_ok=True)

    skipped: list[str] = []
    peer_state: dict[str, str] = {}
    peer_exes: dict[str, Path] = {}
    for name, peer in PEERS.items():
        if name not in needed and not (name == "checkov" and "checkov-tf" in needed):
            continue
        exe, why = ensure_peer(peer, log)
        if exe is None:
            skipped.append(f"{name} {peer.version}: venv could not be made: {why}")
            peer_state[name] = "SKIPPED: venv could not be made"
        else:
            peer_exes[name] = exe
    ready, has_jobs, why = ecrlint_ready(corpus)
    if not ready:
        skipped.append(f"ecrlint: {why}")
        log(f"ecrlint is not ready, measuring the peers and the floor only: {why}")
    elif not has_jobs:
        skipped.append("ecrlint --jobs variants: `ecrlint check --help` has no --jobs option")
    tools = make_tools(peer_exes, ecrlint_jobs=ready and has_jobs)
    if not ready:
        for t in [t for t in tools if t.startswith("ecrlint")]:
            del tools[t]
    netns = netns_prefix()
    machine = machine_facts()
    if os.getloadavg()[0] > 0.5:
        log(f"warning: load average {machine['load']} before starting: other work on this machine will skew "
            "the numbers (RESULTS.md records the load)")
    if args.quick:
        plan = Plan(target_s=15, min_runs=1, max_runs=5, peer_limit_s=60, slow_s=30)
    else:
        plan = Plan(target_s=60, min_runs=3, max_runs=15, peer_limit_s=600, slow_s=60)

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    results: dict[str, ScenarioResult] = {}
    estimates: dict[str, float] = {}
    # checkov's whole-corpus time predicts its scale-up cost; measure it first when both are due.
    partial = bool(only)
    out = args.output or (WORK / "RESULTS-only.md" if partial else HERE / "RESULTS.md")
    readme = None if partial or args.output else HERE / "README_SECTION.md"

    def meta(done: int) -> dict:
        return {
            "argv": "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])),
            "mode": ("quick" if args.quick else "full")
            + ("" if done == len(selected) else f"; INCOMPLETE: {done} of {len(selected)} inputs"),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine,
            "versions": versions,
            "peers": peer_state,
            "helm": shutil.which("helm") or "",
            "netns": bool(netns),
            "peer_limit": plan.peer_limit_s,
            "skipped": skipped,
            "load_end": _load(),
            "source_changed": source_digest() != digest_start,
        }

    def ordered() -> dict[str, ScenarioResult]:
        return {s.name: results[s.name] for s in scenarios if s.name in results}

    versions = ecrlint_facts()
    digest_start = source_digest()
    try:
        # checkov's whole-corpus time predicts its scale-up cost; measure it first when both are due.
        for sc in sorted(selected, key=lambda s: s.scale):
            log(f"== {sc.name}: {sc.title}")
            if sc.scale > 1 and "checkov" not in estimates:
                # No corpus measurement in this run: estimate checkov's corpus time as 30 s (issue 7
                # measured 16 s on 387 of the corpus's files) so a scale-up is not started blind.
                estimates["checkov"] = 30.0
            res = run_scenario(sc, tools, wanted_tools, plan, netns, estimates, log, args.runs, args.max_rss_mb)
            results[sc.name] = res
            if sc.name == "corpus" and "checkov" in res.cells and res.cells["checkov"].valid:
                estimates["checkov"] = res.cells["checkov"].median
            # A long run interrupted still leaves what it measured (never over RESULTS.md).
            write_reports(ordered(), meta(len(results)), tools, WORK / "RESULTS-partial.md", None)
    except KeyboardInterrupt:
        done = f"the {len(results)} finished input(s) are in {_show_path(WORK / 'RESULTS-partial.md')}"
        log(f"interrupted; {done if results else 'no input was finished'}")
        return 130

    final = meta(len(results))
    write_reports(ordered(), final, tools, out, readme)
    (WORK / "results.json").write_text(json.dumps(
        {"meta": final, "results": {k: {"files": r.files, "bytes": r.size, "paths": r.paths,
                                        "cells": {t: c.to_json() for t, c in r.cells.items()}}
                                    for k, r in ordered().items()}}, indent=1))
    log(f"wrote {_show_path(out)}" + (f" and {_show_path(readme)}" if readme else ""))
    for label, measured, verdict in budgets(ordered()):
        word = verdict if verdict in ("PASS", "FAIL") else "n/a"
        log(f"  {word:4s} {label}: {measured}" + ("" if word != "n/a" else f"  {verdict[5:-1]}"))
    return 0


def report_only(scenarios: list[Scenario], log: Callable[[str], None]) -> int:
    saved = WORK / "results.json"
    if not saved.is_file():
        log(f"no {_show_path(saved)}: run the benchmarks first")
        return 2
    data = json.loads(saved.read_text())
    meta = data["meta"]
    if "INCOMPLETE" in meta["mode"]:
        log("the saved run is incomplete; run the benchmarks again")
        return 2
    by_name = {sc.name: sc for sc in scenarios}
    results: dict[str, ScenarioResult] = {}
    for name, r in data["results"].items():
        sc = by_name[name]
        cells = {}
        for tool, c in r["cells"].items():
            cell = Cell(tool, [Sample(**x) for x in c["samples"]],
                        Sample(**c["warmup"]) if c["warmup"] else None, c["output"], c["skipped"], c["tree_pss_mb"])
            cells[tool] = cell
        results[name] = ScenarioResult(name, sc.title, r["files"], r["bytes"], r["paths"], cells, sc.scale,
                                       LABELS.get(name, name))
    tools = make_tools({name: Path(name) for name in PEERS}, ecrlint_jobs=True)
    tools = {t: tools[t] for t in tools if any(t in r.cells for r in results.values())}
    write_reports(results, meta, tools, HERE / "RESULTS.md", HERE / "README_SECTION.md")
    log(f"rewrote {_show_path(HERE / 'RESULTS.md')} and {_show_path(HERE / 'README_SECTION.md')} from {_show_path(saved)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
