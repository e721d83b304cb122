"""What ships: the binary holds no function only the tests and fuzzers call.
The readers keep a few seams for them (a smaller read chunk, a lower size
limit, a reader fed from memory); the build drops every function the binary
does not call (-ffunction-sections, --gc-sections), and this checks it did."""
import os
import pathlib
import shutil
import subprocess

import pytest

SOURCE = pathlib.Path(os.environ.get("TEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BINARY = pathlib.Path(os.environ.get("TEP_BIN", SOURCE / "build" / "test-engine-pytest"))
SEAMS = ["results_json_set_chunk_size", "results_json_set_max_record", "results_junit_set_max_token",
         "results_events_read_text"]


def symbols(path):
    out = subprocess.run(["nm", str(path)], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.split()}


@pytest.mark.skipif(shutil.which("nm") is None, reason="binutils' nm is not installed")
def test_the_binary_holds_no_test_seam():
    have = symbols(BINARY)
    assert "main" in have and "results_json_read_records" in have  # symbols are there to read
    assert [s for s in SEAMS if s in have] == []


@pytest.mark.skipif(shutil.which("nm") is None, reason="binutils' nm is not installed")
def test_the_library_the_tests_link_keeps_them():
    lib = BINARY.parent / "libtep.a"
    assert [s for s in SEAMS if s not in symbols(lib)] == []
