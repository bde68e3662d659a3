"""Every command the README shows is run here, as written (paths made local)."""

import csv
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
# Shown in the README but exercised elsewhere: make (CI runs make test and
# image-test), docker (image-test), and activating the venv.
ELSEWHERE = ("make ", "docker ", ". .venv/bin/activate", "FRAMING_MODEL_DIR=")


def _commands(prefix):
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    commands = []
    for block in blocks:
        for command in re.split(r"(?<!\\)\n", block.strip()):
            command = command.replace("\\\n", " ").strip()
            command = re.sub(r"\s+#.*$", "", command)
            if command.startswith(prefix) and not command.startswith(ELSEWHERE):
                commands.append(command)
    return commands


def _env():
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    return tmp_path


def test_readme_lists_the_commands():
    assert len(_commands("framing-score")) >= 6
    assert len(_commands("framing-")) >= 9
    assert len(_commands("curl")) == 2


def test_batch_commands_run(workdir, tiny_model):
    for command in _commands("mkdir"):
        subprocess.run(shlex.split(command), cwd=workdir, check=True)
    for command in _commands("framing-score"):
        args = shlex.split(command)
        if "--scheduler" in args and "local" not in args:
            continue
        args += ["--model", str(tiny_model)]
        result = subprocess.run(args, cwd=workdir, env=_env(), capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, f"{command}\n{result.stderr[-2000:]}"
        assert "scored" in result.stderr.splitlines()[-1], command
    rows = [json.loads(line) for line in (workdir / "out" / "scores.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["diplomacy_brief", "frontline_report", "state_tv_segment"]


def test_training_commands_run(workdir, tmp_path):
    for command in _commands("framing-") :
        if command.startswith(("framing-score", "framing-label", "framing-report")) or " labels.csv" in command:
            continue
        command = command.replace("/tmp/my-model", str(tmp_path / "my-model"))
        result = subprocess.run(shlex.split(command), cwd=workdir, env=_env(), capture_output=True,
                                text=True, timeout=240)
        assert result.returncode == 0, f"{command}\n{result.stdout[-1000:]}{result.stderr[-2000:]}"
    assert (tmp_path / "my-model" / "model.joblib").is_file()


def test_report_commands_run(workdir, tiny_model):
    """The corpus report as the README shows it, on the shipped example corpus."""
    for command in _commands("mkdir"):
        subprocess.run(shlex.split(command), cwd=workdir, check=True)
    commands = _commands("framing-report")
    assert commands
    for command in commands:
        inputs = [a for a in shlex.split(command)[1:] if a.endswith(".jsonl")]
        for scores in inputs:  # the framing-score line that writes it
            (score,) = [c for c in _commands("framing-score") if f"-o {scores}" in c]
            subprocess.run([*shlex.split(score), "--model", str(tiny_model)], cwd=workdir, env=_env(),
                           check=True, capture_output=True, timeout=240)
        result = subprocess.run([*shlex.split(command), "--model", str(tiny_model)], cwd=workdir, env=_env(),
                                capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, f"{command}\n{result.stderr[-2000:]}"
    rows = list(csv.DictReader(open(workdir / "out" / "aggregates.csv", encoding="utf-8")))
    assert sorted(r["name"] for r in rows if r["section"] == "group") == [
        "Harbour Daily", "Lakeside Post", "Northern Wire", "Steppe Courier"]
    assert len([r for r in rows if r["section"] == "period"]) >= 6
    assert (workdir / "out" / "report.html").stat().st_size > 1_000_000  # plotly.js inside


@pytest.mark.integration
def test_curl_examples(server, workdir):
    for command in _commands("curl"):
        command = command.replace("http://127.0.0.1:8000", server.url)
        result = subprocess.run(shlex.split(command), cwd=workdir, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        body = json.loads(result.stdout)
        assert body["document"]["n_sentences"] >= 2
        assert all(s["label"] in ("pro_russia", "neutral", "pro_ukraine") for s in body["sentences"])


@pytest.mark.slow
def test_labeling_commands_run(workdir, tiny_model, tmp_path):
    """The labeling loop as the README shows it, on the tiny model and corpus (so it
    takes seconds); an annotator's labels are stored between import and export."""
    from labeling import store
    from labeling.db import Database

    env = {**_env(), "FRAMING_DATA_DIR": str(tmp_path / "data"), "FRAMING_MODEL_DIR": str(tiny_model)}
    env.pop("FRAMING_DATABASE_URL", None)
    tiny = str(ROOT / "tests" / "data" / "tiny.csv")
    commands = [c for c in _commands("framing-") if c.startswith("framing-label") or " labels.csv" in c]
    assert [c.split()[1] for c in commands if c.startswith("framing-label")] == [
        "import", "progress", "agreement", "export", "retrain", "rescore"]
    for command in commands:
        args = shlex.split(command.replace("training/data", tiny))
        if args[1] in ("retrain",) or args[0] == "framing-train":
            args += ["--no-search", "--jobs", "1"] + (["--data", tiny] if args[1] == "retrain" else ["--no-dev"])
        result = subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, f"{command}\n{result.stdout[-1000:]}{result.stderr[-2000:]}"
        if args[1] == "import":
            db = Database(f"sqlite:///{tmp_path / 'data' / 'labels.sqlite'}")
            with db.session() as session:
                project = store.get_project(session, "desk")
                for item in store.queue(session, project, "ann", 100):
                    store.set_label(session, project, item["sentence_id"], "ann", item["suggestion"]["label"])
            db.dispose()
    assert (workdir / "labels.csv").read_text().startswith("doc_id,text,label,n_annotators,agreement")
    assert (workdir / "models" / "desk" / "model.joblib").is_file()
    assert (workdir / "models" / "mine" / "model.joblib").is_file()
