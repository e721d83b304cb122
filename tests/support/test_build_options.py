"""The build the hooks run on a user's agent (plain `cmake`, no options) never
fails on a warning; CI's and developers' (TEP_WERROR=ON) do. A header forced
into every file with `#warning` stands in for the new warning of a newer
compiler; one object of the library is built each way."""
import os
import pathlib
import subprocess

import pytest

SOURCE = pathlib.Path(os.environ.get("TEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


def build_one_object(tmp_path, *options):
    header = tmp_path / "new_warning.h"
    header.write_text('#warning "a warning this code has never had"\n')
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(SOURCE), "-B", str(build), "-DTEP_TESTS=OFF",
                    f"-DCMAKE_C_FLAGS=-include {header}", *options],
                   check=True, capture_output=True, text=True)
    return subprocess.run(["make", "-C", str(build), "src/base/buf.o"], capture_output=True, text=True)


def test_a_users_build_warns_and_goes_on(tmp_path):
    proc = build_one_object(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "a warning this code has never had" in proc.stderr
    assert "-Werror" not in (tmp_path / "build" / "CMakeFiles" / "tep.dir" / "flags.make").read_text()


def test_ci_build_stops_on_the_warning(tmp_path):
    proc = build_one_object(tmp_path, "-DTEP_WERROR=ON")
    assert proc.returncode != 0
    assert "a warning this code has never had" in proc.stderr
