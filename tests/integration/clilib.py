"""Running plinth-cli from the integration tests: the binary from
PLINTH_CLI, its exit code, stdout and stderr, and the shared test files."""
import json
import os
import subprocess

import tfs


def cli_bin():
    b = os.environ.get("PLINTH_CLI")
    if not b:
        raise RuntimeError("PLINTH_CLI is not set (run through ctest)")
    return b


def run(*args, timeout=120, cwd=None):
    """(exit code, stdout, stderr) of plinth-cli with `args`."""
    p = subprocess.run([cli_bin()] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout * tfs.SLOW, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def run_json(*args, timeout=120):
    """Runs with --json first and parses stdout; raises on a non-zero exit."""
    code, out, err = run("--json", *args, timeout=timeout)
    if code != 0:
        raise AssertionError("plinth-cli %s exited %d: %s" % (" ".join(map(str, args)), code, err))
    return json.loads(out)


def shared(*parts):
    return os.path.abspath(os.path.join(tfs.shared_dir(), *parts))


MTCNN = shared("models", "mtcnn")
MTCNN_PB = shared("models", "mtcnn", "1", "mtcnn.pb")
TEST_IMAGE = shared("images", "test_image.jpg")
ORACLE_A = shared("oracle", "ref", "test_image.A.json")
COMPARE = shared("oracle", "compare.py")
MTCNN_INPUTS = ["--input", "input=" + TEST_IMAGE, "--input", "min_size=40", "--input", "thresholds=[0.6,0.7,0.7]",
                "--input", "factor=0.709"]


def compare_with_oracle(tmpdir, faces):
    """Runs the oracle's compare.py on {box, prob, landmarks}; returns (exit code, its last line)."""
    got = os.path.join(tmpdir, "got.json")
    with open(got, "w") as f:
        json.dump(faces, f)
    p = subprocess.run(["/usr/bin/python3", COMPARE, ORACLE_A, got], capture_output=True, text=True, timeout=60)
    lines = p.stdout.strip().splitlines()
    return p.returncode, (lines[-1] if lines else p.stderr)
