"""gisp's persisted fingerprints recomputed without gisp (gisp_fingerprint.py: PyPI xxhash and
numpy, written from docs/formats.md): the model fingerprint in the records gisp writes (the
checked-in tiny_record.pb and, when the CLI is built, a record the CLI writes now), and every
known answer pinned in gisp/prune/fingerprint_test.cc. Skips with the reason when xxhash is not
installed in .consumers/venv."""
import re
import struct
import subprocess

import pytest

from conftest import RECORD, ROOT, TINY, require

CPP_TEST = ROOT / "gisp" / "prune" / "fingerprint_test.cc"


@pytest.fixture(scope="module")
def fingerprint():
    require("xxhash")
    require("numpy")
    import gisp_fingerprint
    return gisp_fingerprint


def varint(buf, pos):
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos


def fields(buf):
    """(field number, value) of a protobuf message: ints for varints, bytes for the rest."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 2:
            n, pos = varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, value


def record_summary(path):
    """format_version, model.fingerprint and calibration.fingerprint of a binary gisp record."""
    out = {}
    for number, value in fields(path.read_bytes()):
        if number == 1:
            out["format_version"] = value
        elif number in (4, 5):  # ModelInfo, CalibrationInfo: fingerprint is field 1
            key = "model" if number == 4 else "calibration"
            out[key] = next(v for n, v in fields(value) if n == 1).decode()
    return out


def test_checked_in_record_carries_the_recomputed_model_fingerprint(fingerprint):
    rec = record_summary(RECORD)
    assert rec["format_version"] == 2
    assert rec["model"] == fingerprint.model_fingerprint(TINY / "model")
    assert re.fullmatch(r"[0-9a-f]{32}", rec["calibration"])


def test_a_record_the_cli_writes_now_carries_it_too(fingerprint, tmp_path):
    cli = ROOT / "bazel-bin" / "tools" / "prune"
    if not cli.exists():
        pytest.skip(f"{cli} is not built (bazel build //tools:prune)")
    out = tmp_path / "record.pb"
    subprocess.run([str(ROOT / "tools" / "ci" / "cli_reference_record.sh"), str(out)], check=True,
                   timeout=600)
    rec = record_summary(out)
    assert rec["format_version"] == 2
    assert rec["model"] == fingerprint.model_fingerprint(TINY / "model")


def test_every_model_known_answer_of_the_cpp_test(fingerprint):
    pinned = re.findall(r'\{"(testdata/[^"]+)", "([0-9a-f]{32})"\}', CPP_TEST.read_text())
    assert len(pinned) >= 7, "the table of models in fingerprint_test.cc was not found"
    for model_dir, value in pinned:
        assert fingerprint.model_fingerprint(ROOT / model_dir) == value, model_dir


def test_byte_and_calibration_known_answers_of_the_cpp_test(fingerprint):
    import xxhash
    src = CPP_TEST.read_text()
    for text, value in re.findall(r'HashOf\("([^"]*)"\), "([0-9a-f]{32})"', src):
        assert xxhash.xxh3_128_hexdigest(text.encode()) == value, text
    pattern = bytes((i * 131 + 7) & 0xFF for i in range(1000))
    assert f'HashOf(pattern), "{xxhash.xxh3_128_hexdigest(pattern)}"' in src
    # The calibration stream of docs/formats.md for the test's one batch of two rows.
    tag = b"gisp.calibration.v2"
    q = lambda v: struct.pack("<q", v)  # noqa: E731
    stream = (q(len(tag)) + tag + q(2) + q(3) + struct.pack("<6i", 1, 5, 9, 1, 7, 0)
              + struct.pack("<6i", 5, 9, -1, 7, 2, -1)
              + struct.pack("<6f", 0.25, 0.25, 0, 0.25, 0.25, 0))
    assert f'b->fingerprint, "{xxhash.xxh3_128_hexdigest(stream)}"' in src

