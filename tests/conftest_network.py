"""No network in tests, provably: a Python-level socket guard for the suite and a kernel-level one for children.

Two layers, because ecrlint runs code that Python cannot see into:

* ``PythonGuard`` patches the ``socket`` module so any connection, DNS lookup or datagram from Python
  code raises ``NetworkBlocked`` and is recorded. conftest.py installs it for the whole session, so every
  in-process lint (all of ``helpers.lint``, the built-in Helm engine, forked ``--jobs`` workers) runs under
  it; attempts that a caller swallowed are still recorded and fail the session at teardown.
* ``seal`` installs a seccomp filter in a child process (``subprocess.run(..., preexec_fn=seal)``): the
  kernel then refuses ``socket()`` for every address family but AF_UNIX (and ``io_uring_setup``), in that
  process and everything it forks or execs. That covers native code too - helm-python-sdk renders charts
  in a Go shared library whose sockets never touch Python's ``socket`` module. With ``kill=True`` an
  attempt kills the process with SIGSYS, so a swallowed error cannot hide it.

AF_UNIX stays allowed: it is local IPC, not network, and the standard library uses it for
process plumbing.

``ECRLINT_TEST_SEAL=1`` seals the test process itself at session start (EPERM, not SIGSYS), so
every test, in-process native code and every subprocess run under the kernel layer. Tests that
need the network by design (tests/test_precommit.py installs the hook from PyPI) then fail, and
the guard-proof tests that need an unguarded control skip.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import socket
import struct
import sys
from typing import Any, Callable, Iterator


class NetworkBlocked(OSError):
    """Raised instead of touching the network during tests."""


def _is_local(sock: Any) -> bool:
    return getattr(sock, "family", None) == getattr(socket, "AF_UNIX", object())


class PythonGuard:
    """Patches ``socket`` so connections, lookups and sends fail loudly and are recorded."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._mp: Any = None  # pytest.MonkeyPatch

    def _refuse(self, what: str, target: Any) -> NetworkBlocked:
        self.attempts.append(f"{what} {target!r}")
        return NetworkBlocked(errno.EPERM, f"network access blocked in tests: {what} {target!r}")

    def install(self) -> None:
        import pytest

        mp = self._mp = pytest.MonkeyPatch()
        guard = self
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_sendto = socket.socket.sendto

        def connect(sock: socket.socket, address: Any) -> None:
            if _is_local(sock):
                return real_connect(sock, address)
            raise guard._refuse("connect", address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            if _is_local(sock):
                return real_connect_ex(sock, address)
            raise guard._refuse("connect_ex", address)

        def sendto(sock: socket.socket, data: Any, *args: Any) -> int:
            if _is_local(sock):
                return real_sendto(sock, data, *args)
            raise guard._refuse("sendto", args[-1] if args else None)

        def lookup(name: str) -> Callable[..., Any]:
            def blocked(*args: Any, **kwargs: Any) -> Any:
                raise guard._refuse(name, args[0] if args else kwargs)

            return blocked

        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        mp.setattr(socket.socket, "sendto", sendto)
        for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
            mp.setattr(socket, name, lookup(name))

    def uninstall(self) -> None:
        if self._mp is not None:
            self._mp.undo()
            self._mp = None

    @contextlib.contextmanager
    def expecting(self) -> Iterator[list[str]]:
        """For guard-proof tests: attempts made inside are on purpose; they are handed back, not kept."""
        start = len(self.attempts)
        made: list[str] = []
        try:
            yield made
        finally:
            made.extend(self.attempts[start:])
            del self.attempts[start:]


GUARD = PythonGuard()


# --- the kernel layer: seccomp-bpf --------------------------------------------------------------

# (AUDIT_ARCH_*, __NR_socket, __NR_seccomp) per machine; io_uring_setup is 425 on both.
_ARCH = {"x86_64": (0xC000003E, 41, 317), "aarch64": (0xC00000B7, 198, 277)}
_NR_IO_URING_SETUP = 425
_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO_EPERM = 0x00050000 | errno.EPERM
_LD_W_ABS, _JEQ_K, _JSET_K, _RET_K = 0x20, 0x15, 0x45, 0x06
_AF_UNIX = 1


def seccomp_available() -> bool:
    return sys.platform == "linux" and platform.machine() in _ARCH


def _program(deny: int) -> list[tuple[int, int, int, int]]:
    arch, nr_socket, _ = _ARCH[platform.machine()]
    return [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ_K, 1, 0, arch),
        (_RET_K, 0, 0, deny),  # another ABI (i386 via int 0x80): nothing legitimate here uses it
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        (_JSET_K, 0, 1, 0x40000000),  # the x32 ABI bit
        (_RET_K, 0, 0, deny),
        (_JEQ_K, 4, 0, _NR_IO_URING_SETUP),  # io_uring could connect without socket() checks
        (_JEQ_K, 0, 2, nr_socket),
        (_LD_W_ABS, 0, 0, 16),  # seccomp_data.args[0], low 32 bits: the address family
        (_JEQ_K, 0, 1, _AF_UNIX),
        (_RET_K, 0, 0, _RET_ALLOW),
        (_RET_K, 0, 0, deny),
    ]


def seal(kill: bool = True) -> None:
    """Install the filter in this process (and every thread, child and exec'd program after it).

    Meant as a ``preexec_fn``: it cannot be undone. ``kill``: SIGSYS on an attempt, else EPERM.
    """
    _, _, nr_seccomp = _ARCH[platform.machine()]
    prog = _program(_RET_KILL_PROCESS if kill else _RET_ERRNO_EPERM)
    raw = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *ins) for ins in prog))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.addressof(raw))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS: required to install a filter unprivileged
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    # SECCOMP_SET_MODE_FILTER with SECCOMP_FILTER_FLAG_TSYNC: every existing thread too
    if libc.syscall(nr_seccomp, 1, 1, ctypes.byref(fprog)) != 0:
        raise OSError(ctypes.get_errno(), "seccomp(SECCOMP_SET_MODE_FILTER) failed")


def seal_errno() -> None:
    seal(kill=False)


def sealed(command: list[str], kill: bool = True) -> list[str]:
    """``command`` under the kernel guard: a fresh interpreter seals itself, then execs ``command``.

    (A launcher rather than ``preexec_fn``: ctypes in a child forked from a threaded test process
    could deadlock.)
    """
    return [sys.executable, os.path.abspath(__file__), "kill" if kill else "errno", *command]


SESSION_SEALED = False


def seal_session() -> None:
    global SESSION_SEALED
    if os.environ.get("ECRLINT_TEST_SEAL") == "1" and not SESSION_SEALED:
        if not seccomp_available():
            raise RuntimeError("ECRLINT_TEST_SEAL=1 needs seccomp-bpf (Linux on x86_64 or aarch64)")
        seal_errno()
        SESSION_SEALED = True


if __name__ == "__main__":  # the launcher behind ``sealed``
    seal(kill=sys.argv[1] == "kill")
    os.execvp(sys.argv[2], sys.argv[2:])
