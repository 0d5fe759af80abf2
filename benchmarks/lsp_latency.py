"""`ecrlint lsp` latency: didChange on one manifest to its publishDiagnostics, on the whole corpus (issue 19).

`python benchmarks/lsp_latency.py [--corpus DIR] [--edits N] [--pause S] [--output FILE]`

The server runs as an editor runs it (`python -m ecrlint lsp`, stdio), with the corpus as its one
workspace folder. After the initial load (every file read, every chart rendered: the server is
quiet for QUIET_S) and WARMUP edits, each measured edit is a full-text didChange of
ONE_MANIFEST with a new version that alternates the image tag (the findings change every time);
latency is from writing the notification to reading the publishDiagnostics for that version.
Edits are PAUSE_S apart (a person pausing; the server lints an edit that follows a pause at once
and debounces a burst), and a burst of keystrokes is measured apart. Memory is the server
process's resident set (VmRSS) and peak (VmHWM) from /proc at the end; a Helm chart renders
in a child process of its own with helm-python-sdk (not counted: it exits after each chart).
Nothing is written under the corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
ONE_MANIFEST = "kubernetes/aws-lbc__echoserver-deployment.yaml"
QUIET_S = 3.0
WARMUP = 10
TARGET_MEDIAN_MS, TARGET_P95_MS, TARGET_RSS_MB = 50.0, 150.0, 300.0


class Server:
    """A language server child process spoken to in raw JSON-RPC; a thread reads its messages."""

    def __init__(self, folder: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "ecrlint", "lsp"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(folder))
        self.messages: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.last_message = time.perf_counter()
        self.publishes = 0  # publishDiagnostics notifications read so far
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = json.loads(stream.read(length))
            now = time.perf_counter()
            self.last_message = now
            self.publishes += body.get("method") == "textDocument/publishDiagnostics"
            self.messages.put((now, body))

    def send(self, method: str, params: Any, request: bool = False) -> float:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self._next_id += 1
            message["id"] = self._next_id
        data = json.dumps(message).encode()
        assert self.proc.stdin is not None
        sent = time.perf_counter()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
        self.proc.stdin.flush()
        return sent

    def wait(self, predicate: Any, timeout: float = 120.0) -> tuple[float, dict[str, Any]]:
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("the server did not answer in time")
            at, message = self.messages.get(timeout=left)
            if message.get("method") == "client/registerCapability":
                self.reply(message["id"])
            if predicate(message):
                return at, message

    def reply(self, request_id: Any) -> None:
        data = json.dumps({"jsonrpc": "2.0", "id": request_id, "result": None}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
        self.proc.stdin.flush()

    def quiet(self, seconds: float, limit: float = 300.0) -> None:
        """Wait until nothing arrived for ``seconds`` (the initial load is over)."""
        start = time.perf_counter()
        while time.perf_counter() - self.last_message < seconds and time.perf_counter() - start < limit:
            try:
                _at, message = self.messages.get(timeout=0.1)
                if message.get("method") == "client/registerCapability":
                    self.reply(message["id"])
            except queue.Empty:
                pass

    def memory_mb(self) -> tuple[float, float]:
        fields: dict[str, float] = {}
        with open(f"/proc/{self.proc.pid}/status") as handle:
            for line in handle:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    fields[name] = int(value.split()[0]) / 1024
        return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)

    def close(self) -> None:
        try:
            self.send("shutdown", None, request=True)
            self.wait(lambda m: "result" in m and "method" not in m, timeout=30)
            self.send("exit", None)
            self.proc.wait(timeout=30)
        except (OSError, TimeoutError, queue.Empty):
            self.proc.kill()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--edits", type=int, default=100, help="measured edits (default: 100)")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between edits (default: 0.3)")
    parser.add_argument("--output", type=Path, help="also write the results as markdown to FILE")
    args = parser.parse_args(argv)
    corpus = args.corpus.resolve()
    manifest = corpus / ONE_MANIFEST
    if not manifest.is_file():
        print(f"lsp_latency: {manifest} not found (the shared corpus is needed)", file=sys.stderr)
        return 2

    server = Server(corpus)
    started = time.perf_counter()
    server.send("initialize", {"processId": os.getpid(), "rootUri": corpus.as_uri(), "capabilities": {
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}},
        "textDocument": {"publishDiagnostics": {"relatedInformation": True, "versionSupport": True}}},
        "workspaceFolders": [{"uri": corpus.as_uri(), "name": "corpus"}]}, request=True)
    server.wait(lambda m: "result" in m)
    server.send("initialized", {})
    uri = manifest.as_uri()
    first = server.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics")[0]
    server.quiet(QUIET_S)
    loaded = server.last_message - started
    published_files = server.publishes
    while not server.messages.empty():
        server.messages.get()

    text = manifest.read_text()
    variants = [text.replace("echoserver:2.5", tag) for tag in ("echoserver:2.6", "echoserver:latest")]
    version = 1
    server.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}})
    server.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri)

    def edit(body: str) -> float:
        nonlocal version
        version += 1
        wanted = version
        sent = server.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": wanted},
                                                      "contentChanges": [{"text": body}]})
        at, _ = server.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                            and m["params"]["uri"] == uri and m["params"].get("version") == wanted)
        return (at - sent) * 1000

    for i in range(WARMUP):
        edit(variants[i % 2])
        time.sleep(args.pause)
    latencies = []
    for i in range(args.edits):
        latencies.append(edit(variants[i % 2]))
        time.sleep(args.pause)

    # A burst: 20 keystrokes 20 ms apart; what counts is the last one's publish.
    burst_sent = 0.0
    for i in range(20):
        version += 1
        burst_sent = server.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                            "contentChanges": [{"text": variants[i % 2]}]})
        time.sleep(0.02)
    last = version
    burst_publishes = 0

    def burst_done(m: dict[str, Any]) -> bool:
        nonlocal burst_publishes
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
            burst_publishes += 1
            return m["params"].get("version") == last
        return False

    burst_at, _ = server.wait(burst_done)
    rss, peak = server.memory_mb()
    server.close()

    median, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    rows = [
        ("workspace", f"{corpus} ({sum(1 for _ in corpus.rglob('*') if _.is_file())} files)"),
        ("machine", f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"),
        ("first diagnostics after start", f"{(first - started):.2f} s"),
        ("initial load (files read, charts rendered, all published)", f"{loaded:.2f} s ({published_files} publishes)"),
        ("measured edits", f"{len(latencies)} (after {WARMUP} warm-up edits), {args.pause:.2f} s apart"),
        ("didChange -> publishDiagnostics, median", f"{median:.1f} ms (target <= {TARGET_MEDIAN_MS:.0f})"),
        ("p95", f"{p95:.1f} ms (target <= {TARGET_P95_MS:.0f})"),
        ("min / max", f"{min(latencies):.1f} / {max(latencies):.1f} ms"),
        ("burst of 20 edits 20 ms apart", f"{burst_publishes} publishes in all; last edit -> its publish "
                                          f"{(burst_at - burst_sent) * 1000:.0f} ms"),
        ("server RSS at the end / peak", f"{rss:.0f} MB / {peak:.0f} MB (target < {TARGET_RSS_MB:.0f})"),
    ]
    met = median <= TARGET_MEDIAN_MS and p95 <= TARGET_P95_MS and peak < TARGET_RSS_MB
    out = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), "",
           f"targets {'met' if met else 'NOT met'}"]
    report = "\n".join(out) + "\n"
    print(report, end="")
    if args.output:
        args.output.write_text(f"# `ecrlint lsp` latency\n\nWritten by `python benchmarks/lsp_latency.py` on "
                               f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n{report}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
