"""Shared fixtures of the consumer tests: gisp (Python binding over libgisp.so) on the tiny model
and the record of its default run (tiny_record.pb, see README.md), and the skip rules: a runtime
that is not installed makes its tests skip with the reason, never pass."""
import importlib
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = ROOT / "testdata" / "tiny"
RECORD = pathlib.Path(__file__).resolve().parent / "tiny_record.pb"
TARGETS = (0.2, 0.3, 0.4, 0.5)
INSTALL_HINT = ("run tools/setup.sh --tests (installs tools/consumers/requirements.txt into "
                ".consumers/venv; log in .consumers/install.log)")


def require(module):
    """Imports `module` or skips the test with an actionable reason."""
    try:
        return importlib.import_module(module)
    except Exception as e:  # ImportError, or a broken install raising anything else
        pytest.skip(f"{module} is not importable ({type(e).__name__}: {e}); {INSTALL_HINT}")


@pytest.fixture(scope="session")
def gisp_mod():
    if not os.environ.get("GISP_LIBRARY"):
        pytest.skip("GISP_LIBRARY is not set: build //c_api:shared_library and run through "
                    "tools/ci/suite_consumers.sh")
    import gisp
    return gisp


@pytest.fixture(scope="session")
def dense(gisp_mod):
    with gisp_mod.Model(str(TINY / "model")) as m:
        yield m


@pytest.fixture(scope="session")
def record(gisp_mod):
    with gisp_mod.Record.load(str(RECORD)) as r:
        yield r


@pytest.fixture(scope="session")
def eval_ids(dense):
    return dense.tokenize((TINY / "eval.txt").read_text(encoding="utf-8"))
