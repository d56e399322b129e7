"""Native code writing to descriptor 1 never reaches standard output; ``--verbose`` sends it to standard error."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import threading

import pytest

from agentos_contracts import native_output


def _native_print(text: str) -> None:
    """Write as C code does: straight to the descriptor (and through C stdio), past ``sys.stdout``."""
    libc = ctypes.CDLL(None)
    data = text.encode()
    libc.write(1, data, len(data))
    libc.printf(b"%s", b"buffered-by-stdio\n")  # sits in C's buffer until a flush


def test_descriptor_writes_are_dropped(capfd: pytest.CaptureFixture[str]) -> None:
    with native_output.contained():
        _native_print("banner\n")
        os.write(2, b"native-stderr\n")
    print("rendered")
    out, err = capfd.readouterr()
    assert out == "rendered\n"
    assert "banner" not in err and "native-stderr" not in err and "buffered-by-stdio" not in out + err


def test_verbose_sends_chatter_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    native_output.set_verbose(True)
    try:
        with native_output.contained():
            _native_print("banner\n")
    finally:
        native_output.set_verbose(False)
    print("rendered")
    out, err = capfd.readouterr()
    assert out == "rendered\n"
    assert "banner" in err and "buffered-by-stdio" in err


@pytest.mark.parametrize("wrapped", [True, False])
def test_highs_banner_is_contained(wrapped: bool) -> None:
    """HiGHS prints its banner once per process, so each case runs in its own interpreter."""
    pytest.importorskip("highspy")
    body = "with contained():\n    highspy.Highs()\n" if wrapped else "highspy.Highs()\n"
    code = "import highspy\nfrom agentos_contracts.native_output import contained\n" + body + "print('rendered')\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    if wrapped:
        assert out == "rendered\n"
    else:  # the control: unwrapped, the banner does reach standard output
        assert "HiGHS" in out and out.endswith("rendered\n")


def test_overlapping_threads_restore_descriptors_once(capfd: pytest.CaptureFixture[str]) -> None:
    barrier = threading.Barrier(4)

    def worker() -> None:
        with native_output.contained():
            barrier.wait()
            _native_print("from a thread\n")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("after")
    out, err = capfd.readouterr()
    assert out == "after\n" and "from a thread" not in err
