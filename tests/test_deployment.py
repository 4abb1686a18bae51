"""The deployment files agree with the code: the SAM template's handlers exist and its variables are
settings, the Dockerfile copies what exists and starts a real command, and the scheduled job's Lambda
handler runs the main job (against the sandbox). `cfn-lint template.yaml` itself runs in scripts/test.sh."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from connector.cli import cli
from connector.jobs import scheduled_handler
from connector.sandbox import Sandbox
from connector.settings import iter_setting_docs
from tests.sync_helpers import FAST

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = (ROOT / "template.yaml").read_text(encoding="utf-8")
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
SETTINGS = {d.env for d in iter_setting_docs()}


def test_the_templates_handlers_exist_and_its_variables_are_settings() -> None:
    handlers = re.findall(r"Command: \[([\w.]+)\]", TEMPLATE)
    assert sorted(handlers) == ["connector.jobs.scheduled_handler", "connector.webhooks.host.lambda_handler"]
    for handler in handlers:
        module, name = handler.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name))
    variables = set(re.findall(r"\b(HELPDESK_\w+):", TEMPLATE))
    assert variables and variables <= SETTINGS, variables - SETTINGS
    assert "NoEcho: true" in TEMPLATE.split("HubSpotAccessToken:")[1].split("\n\n")[0]


def test_the_dockerfile_copies_what_exists_and_runs_real_commands() -> None:
    for source in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, flags=re.M):
        for path in source.split():
            assert (ROOT / path).exists(), path
    command = re.search(r'^CMD \["(\w+)"', DOCKERFILE, flags=re.M)
    assert command is not None and command.group(1) in cli.commands
    assert "/healthz" in DOCKERFILE
    assert set(re.findall(r"\b(HELPDESK_\w+)=", DOCKERFILE)) <= SETTINGS


def test_the_scheduled_handler_runs_the_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(seed=3, size=100, hubspot_requests_per_10s=100_000) as sandbox:
        env = (
            sandbox.settings_env()
            | FAST
            | {
                "HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'job.db'}",
                "HELPDESK_SOURCES": "hubspot",
                "HELPDESK_WRITE_BACK": "hubspot_properties,hubspot_snapshots",
            }
        )
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        answer = scheduled_handler({"source": "aws.scheduler"}, None)
    assert answer["ok"] is True
    assert any(line.startswith("sync: ") for line in answer["lines"])
    assert any("hubspot: wrote" in line for line in answer["lines"])


def test_the_readme_gives_three_ways_to_run_each_one_block_of_real_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running it: three ways", 1)[1].split("\n## ", 1)[0]
    ways = re.split(r"^\*\*\d\. ", section, flags=re.M)[1:]
    assert [w.split("**", 1)[0] for w in ways] == ["The scheduled job", "The webhook server", "AWS Lambda"]
    for way in ways:
        blocks = re.findall(r"```sh\n(.*?)```", way, flags=re.S)
        assert len(blocks) == 1, way[:40]
        for command in re.findall(r"helpdesk-kpi(?: (\w+))", blocks[0]):
            assert command in cli.commands or command in ("helpdesk", "webhooks"), command
    assert "webhooks register" in ways[1] and "sam build && sam deploy" in ways[2]
