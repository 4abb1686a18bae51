"""The `helpdesk-kpi` command line. Settings are read once here and passed down.

Exit status: 0 success; 1 invalid settings, invalid input or a failed operation; 2 wrong usage.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any

import click

from connector.errors import ConnectorError
from connector.importer import ImportReport, import_lines
from connector.jobs import compute_and_store, drain_events, push_results, recent_months, run_job, topic_period
from connector.kpis import ALL_CUTS, CATALOGUE
from connector.kpis import compute as compute_kpis
from connector.kpis.results import to_csv, to_json, to_table
from connector.periods import Grain, split_periods
from connector.settings import ENV_PREFIX, Settings, Vendor, effective_settings, env_name, load_settings
from connector.store import Store
from connector.store.records import OUTCOMES


class _Context:
    def __init__(self, env_file: Path | None) -> None:
        self.env_file = env_file

    def settings(self, **overrides: Any) -> Settings:
        if self.env_file is not None:
            overrides.setdefault("_env_file", self.env_file)
        settings = load_settings(**overrides)
        logging.basicConfig(
            level=settings.log_level,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        # Alembic narrates every migration check at INFO; its warnings and errors still show
        logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
        return settings


OptionDecorator = Callable[[Callable[..., Any]], Callable[..., Any]]
"""What `click.option(...)` returns: it adds its option to the command it decorates."""


def _file_option(flag: str, help: str) -> OptionDecorator:
    """An option naming one file, absent unless given (the command chooses its default)."""
    return click.option(flag, type=click.Path(dir_okay=False, path_type=Path), default=None, help=help)


def _format_option(*formats: str) -> OptionDecorator:
    """`--format`, passed on as `output`; a table unless asked otherwise."""
    return click.option(
        "--format", "output", type=click.Choice([*formats, "table"]), default="table", show_default=True
    )


def _directory_option(default: str, help: str) -> OptionDecorator:
    """`--out`: the directory a command writes its files to."""
    return click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(default),
        show_default=True,
        help=help,
    )


def _span_option(flag: str, setting: str, help: str) -> OptionDecorator:
    """An option overriding the integer `setting` for one command, absent unless given: its bounds and
    the default its help names are the setting's, stated once in `Settings`."""
    info = Settings.model_fields[setting]
    low = next(m.ge for m in info.metadata if hasattr(m, "ge"))
    high = next(m.le for m in info.metadata if hasattr(m, "le"))
    text = f"{help} (default {env_name((setting,))}, {info.default})."
    return click.option(flag, type=click.IntRange(low, high), default=None, help=text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@_file_option(
    "--env-file", "Read settings from this file instead of ./.env (environment variables still win)."
)
@click.version_option(package_name="helpdesk-kpi-connector")
@click.pass_context
def cli(ctx: click.Context, env_file: Path | None) -> None:
    """Helpdesk KPI connector: HubSpot, LiveAgent and Aircall → customer-service KPIs → HubSpot."""
    if env_file is not None and not env_file.exists():
        raise click.BadParameter(f"{env_file} does not exist", param_hint="--env-file")
    ctx.obj = _Context(env_file)


@cli.command()
@click.option(
    "--online", is_flag=True, help="Also make one cheap authenticated call to each enabled, ready source."
)
@click.pass_obj
def check(obj: _Context, online: bool) -> None:
    """Validate the settings, reach the store, and say per enabled source what is missing (with --online,
    whether the vendor answers the credentials). Writes nothing."""
    try:
        settings = obj.settings()
    except ConnectorError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    problems: list[str] = []
    click.echo("Effective settings (secrets masked):")
    for name, shown in effective_settings(settings):
        click.echo(f"  {name} = {shown}")
    click.echo("Sources:")
    if not settings.sources:
        click.echo(f"  none enabled ({ENV_PREFIX}SOURCES is empty): only imported records will be used")
    for vendor in Vendor:
        vendor_settings = settings.vendor(vendor)
        missing = [env_name((vendor.value, name)) for name in vendor_settings.missing()]
        if vendor in settings.sources:
            if missing:
                problems.append(f"{vendor.value} is enabled but {', '.join(missing)} not set")
                click.echo(f"  {vendor.value}: enabled, missing {', '.join(missing)}")
            elif online:
                problem = _probe(vendor, settings)
                answer = f"does NOT answer: {problem}" if problem else "answers"
                click.echo(f"  {vendor.value}: enabled, {answer}")
                if problem:
                    problems.append(f"{vendor.value}: {problem}")
            else:
                click.echo(f"  {vendor.value}: enabled, ready")
        else:
            click.echo(f"  {vendor.value}: not enabled")
    from connector.store.engine import probe_store

    store_problem = probe_store(settings.database_url)
    click.echo(f"Store: {'cannot be used' if store_problem else 'reachable'}")
    if store_problem:
        problems.append(f"{ENV_PREFIX}DATABASE_URL: {store_problem}")
    unknown = _unknown_variables(settings)
    for name in unknown:
        problems.append(f"{name} is not a setting (a typo?)")
    if problems:
        click.echo("Problems:", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    click.echo("Settings are valid.")


def _probe(vendor: Vendor, settings: Settings) -> str | None:
    """Why one authenticated call to the vendor fails, or None; two quick attempts, not a sync's patience."""
    from adapters.http import RetryPolicy
    from adapters.registry import build_adapter
    from connector.sync import sync_plan, without_vendor

    adapter = build_adapter(vendor, settings, sync_plan(settings))
    client = getattr(adapter, "api", None) or getattr(adapter, "client", None)
    if client is not None:
        client.retry = RetryPolicy(attempts=2, initial_wait=0.5, max_wait=2.0)
    try:
        adapter.probe()
    except ConnectorError as exc:
        return without_vendor(vendor.value, str(exc))
    finally:
        adapter.close()
    return None


def _unknown_variables(settings: Settings) -> list[str]:
    known = {name for name, _ in effective_settings(settings)}
    return sorted(
        name for name in os.environ if name.upper().startswith(ENV_PREFIX) and name.upper() not in known
    )


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--skip-invalid", is_flag=True, help="Store the valid lines; write rejected ones to a rejects file."
)
@_file_option(
    "--rejects",
    "Where rejected lines go with --skip-invalid (default FILE.rejects.jsonl; stdin: rejects.jsonl).",
)
@click.pass_obj
def import_command(obj: _Context, file: Path, skip_invalid: bool, rejects: Path | None) -> None:
    """Import records from a JSON Lines FILE (`-` = standard input), one `{"type": ...}` object a line.

    Any invalid line stops the whole file (nothing stored) unless --skip-invalid is given.
    """
    settings = _settings_or_exit(obj)
    with _open_store(settings) as store, _open_lines(file) as lines:
        report = import_lines(store, lines, skip_invalid=skip_invalid)
    _print_rejections(report)
    if not report.committed:
        click.echo(f"Nothing imported: {len(report.rejected)} invalid line(s) in {_name(file)}.", err=True)
        click.echo("Fix them, or rerun with --skip-invalid to import the valid lines.", err=True)
        sys.exit(1)
    if report.rejected:
        target = rejects or _default_rejects_path(file)
        with target.open("w", encoding="utf-8", errors="backslashreplace") as out:
            for rejected in report.rejected:
                out.write(json.dumps(rejected.as_json(), ensure_ascii=False) + "\n")
        click.echo(f"{len(report.rejected)} invalid line(s) skipped, written to {target}", err=True)
    _print_counts(report)


def _split(values: tuple[str, ...]) -> list[str]:
    """Repeated options and comma-separated values alike: `--cut agent --cut team` = `--cut agent,team`."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


@cli.command()
@click.option("--start", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day (local).")
@click.option(
    "--end", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Day after the last (local)."
)
@click.option(
    "--grain", type=click.Choice([g.value for g in Grain]), default=Grain.RANGE.value, show_default=True
)
@click.option(
    "--cut", "cuts", multiple=True, help=f"Cuts, repeatable or comma-separated: {', '.join(ALL_CUTS)}."
)
@click.option(
    "--kpi", "kpis", multiple=True, help="KPI ids, repeatable or comma-separated (default: all enabled)."
)
@_format_option("json", "csv")
@click.pass_obj
def compute(
    obj: _Context,
    start: datetime,
    end: datetime,
    grain: str,
    cuts: tuple[str, ...],
    kpis: tuple[str, ...],
    output: str,
) -> None:
    """Compute KPIs for local days [--start, --end), store them as snapshots and print them."""
    settings = _settings_or_exit(obj)
    try:
        periods = split_periods(start.date(), end.date(), Grain(grain), settings.zone)
        chosen = [k.upper() for k in _split(kpis)] or settings.kpis
        missing = [k for k in chosen if k not in CATALOGUE]
        with _open_store(settings) as store:
            results = compute_kpis(store, settings, periods, cuts=_split(cuts) or ["overall"], kpi_ids=chosen)
            with store.transaction() as connection:
                store.save_kpi_results(connection, results)
    except (ConnectorError, ValueError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if missing:
        click.echo(f"not in the catalogue yet, skipped: {', '.join(missing)}", err=True)
    if output == "json":
        click.echo(to_json(results))
    elif output == "csv":
        click.echo(to_csv(results), nl=False)
    else:
        click.echo(to_table(results, settings.zone))


SYNC_ENTITIES = ("agent", "contact", "ticket", "message", "call", "survey_response", "purchase")


@cli.command()
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice([v.value for v in Vendor]),
    help="Only this vendor (repeatable; default: every enabled source).",
)
@click.option(
    "--entity",
    "entities",
    multiple=True,
    help=f"Only streams producing these entities, repeatable or comma-separated: {', '.join(SYNC_ENTITIES)}.",
)
@click.option(
    "--full", is_flag=True, help="Ignore the cursors: read everything from the backfill start again."
)
@click.pass_obj
def sync(obj: _Context, sources: tuple[str, ...], entities: tuple[str, ...], full: bool) -> None:
    """Pull changed records from the vendors into the store, from each stream's cursor.

    Progress is logged per stream; a summary follows. Exits 1 when a source failed or records were
    rejected, after committing everything the other sources fetched."""
    from connector.sync import Progress, run_sync, summary_lines

    settings = _settings_or_exit(obj)
    chosen = _split(entities)
    unknown = [e for e in chosen if e not in SYNC_ENTITIES]
    if unknown:
        raise click.BadParameter(f"unknown entities {', '.join(unknown)}", param_hint="--entity")
    vendors = [Vendor(s) for s in sources] or None
    if not (vendors or settings.sources):
        click.echo(
            f"Nothing to sync: no source is enabled ({ENV_PREFIX}SOURCES is empty; e.g. "
            f"{ENV_PREFIX}SOURCES=hubspot,aircall). `helpdesk-kpi check` shows what each source needs."
        )
        return
    with _open_store(settings) as store:
        report = run_sync(
            settings,
            store,
            sources=vendors,
            entities=chosen or None,
            full=full,
            progress=Progress(emit=lambda line: click.echo(line, err=True)),
        )
    for line in summary_lines(report):
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print exactly what would be written; write nothing.")
@click.pass_obj
def push(obj: _Context, dry_run: bool) -> None:
    """Write the figures into HubSpot: ticket and contact properties (changed values only) and the stored
    KPI results as snapshot records. Exits 1 when a write failed."""
    settings = _settings_or_exit(obj)
    with _open_store(settings) as store:
        try:
            report = push_results(settings, store, dry_run=dry_run or settings.dry_run, emit=click.echo)
        except ConnectorError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@cli.command()
@click.pass_obj
def drain(obj: _Context) -> None:
    """Process the webhook events still pending (each changed object re-read from its vendor, its
    figures recomputed, changed HubSpot properties pushed). Exits 1 when some stay pending."""
    settings = _settings_or_exit(obj)
    with _open_store(settings) as store:
        report = drain_events(settings, store, emit=lambda line: click.echo(line, err=True))
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@cli.group()
def webhooks() -> None:
    """Set up the vendors' webhooks."""


@webhooks.command()
@click.option(
    "--url", required=True, help="The webhook server's public address, e.g. https://hooks.example.com."
)
@_file_option(
    "--token-file", "Env file the Aircall webhook's token is saved to (default: --env-file, else ./.env)."
)
@click.pass_obj
def register(obj: _Context, url: str, token_file: Path | None) -> None:
    """Create the Aircall webhook through Aircall's API (kept when one already sends to the URL) and save
    its token; print what to set up in HubSpot and LiveAgent, which have no API for it."""
    from connector.webhooks.register import register as register_webhooks

    settings = _settings_or_exit(obj)
    try:
        result = register_webhooks(settings, url, token_file=token_file or obj.env_file or Path(".env"))
    except ConnectorError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    for line in result.lines:
        click.echo(line)


REPORT_OPTIONS = (
    _directory_option("report", "Directory for dashboard.html, kpis.csv and kpis.json."),
    _span_option("--months", "run_months", "Months covered: the month to date and the full months before it"),
)
"""The options `report` and `run` share."""


def report_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(REPORT_OPTIONS):
        command = option(command)
    return command


@cli.command()
@_span_option("--weeks", "forecast_weeks", "Weeks to forecast from tomorrow")
@_format_option("json", "csv")
@click.pass_obj
def forecast(obj: _Context, weeks: int | None, output: str) -> None:
    """Forecast contacts per hour for the coming weeks (learnt from HELPDESK_FORECAST_HISTORY_WEEKS of the
    store's history, checked by a backtest against last week's pattern) and the agents each hour needs
    (calls by Erlang C for K31's service level, tickets as workload) against the active agents; stores
    them as K32 snapshots (`push` sends them to HubSpot) and prints them."""
    from connector.forecast.report import render_csv, render_json, render_table
    from connector.jobs import forecast_and_store

    settings = _settings_or_exit(obj)
    with _open_store(settings) as store:
        try:
            outlook, _ = forecast_and_store(settings, store, weeks=weeks)
        except (ConnectorError, ValueError) as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
    render = {"json": render_json, "csv": render_csv, "table": render_table}[output]
    click.echo(render(outlook), nl=output != "csv")


@cli.command()
@_span_option("--months", "topic_months", "Months of tickets and calls to learn from")
@click.option(
    "--period",
    type=click.DateTime(["%Y-%m"]),
    default=None,
    help="A month (YYYY-MM): show the kept topics' figures in it instead of discovering anew.",
)
@_format_option("json")
@click.pass_obj
def topics(obj: _Context, months: int | None, period: datetime | None, output: str) -> None:
    """Find the recurring topics in the tickets' subjects and first messages and the calls' notes (Dutch
    and English; the optional `topics` extra), keep each one's topic in the store and print the topics
    with examples (progress lines go to standard error). With --period, show the kept topics in that
    month: tickets, calls, share, change, rising, resolution time and CSAT (a discovery first if none
    is kept)."""
    from connector.topics import report as topic_report
    from connector.topics.store import discover_and_store, example_texts
    from connector.writer.dashboard import EXAMPLE_CHARACTERS

    settings = _settings_or_exit(obj)
    progress = partial(click.echo, err=True)
    with _open_store(settings) as store:
        try:
            if period is not None:
                label, view = topic_period(settings, store, period.date(), months=months, progress=progress)
                render = topic_report.period_json if output == "json" else topic_report.period_table
                click.echo(render(view, label))
                return
            found = discover_and_store(settings, store, months=months, progress=progress)
        except (ConnectorError, ValueError) as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        examples = example_texts(store, [e for t in found.topics for e in t.examples], EXAMPLE_CHARACTERS)
        rows = topic_report.topic_rows(found, store.topic_sizes(), examples)
    click.echo((topic_report.render_json if output == "json" else topic_report.render_table)(rows, found))


@cli.command()
@report_options
@click.pass_obj
def report(obj: _Context, out: Path, months: int | None) -> None:
    """Compute the KPIs by month (every cut) and write the self-contained dashboard and CSV/JSON exports."""
    from connector.writer.dashboard import write_report_for

    settings = _settings_or_exit(obj)
    with _open_store(settings) as store:
        try:
            results = compute_and_store(
                settings, store, recent_months(settings, months or settings.run_months)
            )
        except ConnectorError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        paths = write_report_for(settings, store, results, out)
    click.echo(
        f"dashboard: {paths['dashboard']} ({len(results)} figures); exports: {paths['csv']}, {paths['json']}"
    )


@cli.command()
@report_options
@click.option(
    "--dry-run", is_flag=True, help="Sync and compute, but only print what would be written to HubSpot."
)
@click.pass_obj
def run(obj: _Context, out: Path, months: int | None, dry_run: bool) -> None:
    """The main job: sync → compute → push → report, with one summary at the end."""
    settings = _settings_or_exit(obj)
    summary = run_job(
        settings,
        out=out,
        months=months or settings.run_months,
        dry_run=dry_run or settings.dry_run,
        emit=lambda line: click.echo(line, err=True),
    )
    for line in summary.lines:
        click.echo(line)
    if not summary.ok:
        sys.exit(1)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port to listen on."
)
@click.pass_obj
def serve(obj: _Context, host: str, port: int) -> None:
    """Serve the webhook endpoints (POST /webhooks/hubspot|aircall|liveagent, GET /healthz) under waitress:
    each verified event is recorded before the answer."""
    from connector.webhooks.host import serve as serve_webhooks

    settings = _settings_or_exit(obj)
    click.echo(f"serving webhooks on http://{host}:{port} (Ctrl-C stops)", err=True)
    serve_webhooks(settings, host=host, port=port)


@cli.command()
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 = any free port."
)
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same world.")
@click.option(
    "--size", type=click.IntRange(1), default=1000, show_default=True, help="Number of HubSpot tickets."
)
@click.option(
    "--faults", default="", help="Fault switches, e.g. 'hubspot:/crm/v3/objects=503@0.2; aircall=latency(1)'."
)
def sandbox(port: int, seed: int, size: int, faults: str) -> None:
    """Serve the offline vendor APIs on 127.0.0.1 until interrupted; first print the settings (.env
    lines) that point the connector at them."""
    from connector.sandbox import Sandbox
    from connector.sandbox.faults import FaultSpecError

    try:
        running = Sandbox(seed=seed, size=size, port=port, faults=faults).start()
    except FaultSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    for name, value in running.settings_env().items():
        click.echo(f"{name}={value}")
    click.echo(f"# sandbox: {size} tickets, seed {seed}, on {running.hubspot_url}; Ctrl-C stops it", err=True)
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


DEMO_LIMITS = {"hubspot_requests_per_10s": 1000, "aircall_requests_per_minute": 6000,
               "liveagent_requests_per_minute": 12000}  # fmt: skip
"""The demo's sandbox limits: ten to sixty times the vendors' real ones, so the whole job takes seconds."""
DEMO_SETTINGS = {"HELPDESK_CAPACITY_CONTACTS_PER_AGENT_HOUR": "0.15"}
"""Settings the demo adds to the sandbox's: a capacity scaled to its small world (about 0.12 contacts
per agent-hour), so K30 shows its capacity line."""


@cli.command()
@click.option(
    "--database",
    default="sqlite:///demo.db",
    show_default=True,
    help="Store the demo's records here, apart from your configured database.",
)
@click.option(
    "--size",
    type=click.IntRange(10, 200_000),
    default=600,
    show_default=True,
    help="HubSpot tickets in the sandbox world (calls as many, LiveAgent half).",
)
@_directory_option("demo-report", "Directory for the dashboard and exports.")
@click.pass_obj
def demo(obj: _Context, database: str, size: int, out: Path) -> None:
    """Everything against the offline sandbox: start it in-process, point the settings at it, run the
    main job (sync → compute → push → report), and show what was written to its HubSpot."""
    from connector.sandbox import Sandbox

    # the world's year ends at today's start: the latest full month has records, whatever the date
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with Sandbox(seed=1, size=size, end=today, **DEMO_LIMITS) as sandbox:  # type: ignore[arg-type]
        click.echo(
            f"Sandbox on {sandbox.hubspot_url}: {size} HubSpot tickets and as many calls, "
            f"{sandbox.world.conversation_count} LiveAgent tickets, over the year to "
            f"{(today - timedelta(days=1)).date()} (limits relaxed for the demo)"
        )
        env = sandbox.settings_env() | DEMO_SETTINGS | {"HELPDESK_DATABASE_URL": database}
        for name, value in env.items():
            os.environ[name] = value
        settings = _settings_or_exit(obj, database_url=database)
        click.echo(_import_extras(sandbox, settings), err=True)
        summary = run_job(
            settings,
            out=out,
            months=6,
            dry_run=False,
            now=datetime.now(UTC),
            emit=lambda line: click.echo(line, err=True),
        )
        for line in summary.lines:
            click.echo(line)
        click.echo("\nWritten to the sandbox's HubSpot:")
        for line in _sandbox_writes(sandbox):
            click.echo(f"  {line}")
    if summary.dashboard is not None:
        click.echo(f"\nOpen the dashboard: {summary.dashboard.resolve()}")
    if not summary.ok:
        sys.exit(1)


def _import_extras(sandbox: Any, settings: Settings) -> str:
    """The records a desk keeps outside its vendors (costs, QA reviews, SERVQUAL and eNPS answers, new
    customers), for the sandbox's world, imported into the demo's store."""
    from connector.importer import import_lines
    from connector.sandbox.extras import extra_records

    records = extra_records(sandbox.world)
    with _open_store(settings) as store:
        report = import_lines(store, (json.dumps(r) for r in records))
    kinds = Counter(str(r.get("kind") or r["type"]).replace("_", " ") for r in records)
    listed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    if not report.committed:
        problems = "; ".join(str(r) for r in report.rejected[:3])
        raise click.ClickException(f"the demo's extra records were refused: {problems}")
    return f"imported {report.lines} records the vendors do not hold ({listed})"


def _sandbox_writes(sandbox: Any) -> Iterator[str]:
    """A digest of the write requests the sandbox's HubSpot received, and one ticket's new properties."""
    counts: dict[str, list[int]] = {}
    for method, path, body in sandbox.hubspot.writes:
        inputs = len(body.get("inputs") or []) if isinstance(body, dict) else 0
        entry = counts.setdefault(f"{method} {path}", [0, 0])
        entry[0] += 1
        entry[1] += inputs
    if not counts:
        yield "nothing: every value is as it was after the last push"
        return
    for endpoint, (requests, inputs) in sorted(counts.items()):
        yield f"{endpoint}: {requests} request(s)" + (f", {inputs} inputs" if inputs else "")
    tickets = sandbox.hubspot.kinds["tickets"]
    for index in sorted(tickets.overlay)[:1]:
        record = tickets.record(index)
        shown = {k: v for k, v in record.properties.items() if k.startswith("helpdesk_")}
        yield f"e.g. ticket {record.id}: " + ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))


def _settings_or_exit(obj: _Context, **overrides: Any) -> Settings:
    try:
        return obj.settings(**overrides)
    except ConnectorError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


@contextmanager
def _open_store(settings: Settings) -> Iterator[Store]:
    try:
        store = Store.open(settings.database_url)
    except ConnectorError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _open_lines(file: Path) -> Iterator[IO[str]]:
    # undecodable bytes are kept (surrogateescape) so the importer can name the line that holds them
    if str(file) == "-":
        if hasattr(sys.stdin, "reconfigure"):
            sys.stdin.reconfigure(encoding="utf-8", errors="surrogateescape")
        yield sys.stdin
        return
    try:
        handle = file.open("r", encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        click.echo(f"cannot read {file}: {exc.strerror}", err=True)
        sys.exit(1)
    with handle:
        yield handle


def _name(file: Path) -> str:
    return "standard input" if str(file) == "-" else str(file)


def _default_rejects_path(file: Path) -> Path:
    if str(file) == "-":
        return Path("rejects.jsonl")
    stem = file.name.removesuffix(".jsonl")
    return file.with_name(f"{stem}.rejects.jsonl")


MAX_PRINTED_PROBLEMS = 50


def _print_rejections(report: ImportReport) -> None:
    printed = 0
    for rejected in report.rejected:
        for problem in rejected.problems:
            if printed < MAX_PRINTED_PROBLEMS:
                click.echo(f"line {rejected.line}: {problem.field}: {problem.reason}", err=True)
            printed += 1
    if printed > MAX_PRINTED_PROBLEMS:
        click.echo(f"… and {printed - MAX_PRINTED_PROBLEMS} more problem(s)", err=True)


def _print_counts(report: ImportReport) -> None:
    click.echo(f"{'entity':<16}" + "".join(f"{outcome:>11}" for outcome in OUTCOMES))
    for entity, counter in sorted(report.counts.by_entity.items()):
        click.echo(f"{entity:<16}" + "".join(f"{counter[outcome]:>11}" for outcome in OUTCOMES))
    click.echo(f"{'total':<16}" + "".join(f"{report.counts.total(outcome):>11}" for outcome in OUTCOMES))


def _env_file_given_late(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    """`--env-file` after the command name (`helpdesk-kpi sync --env-file prod.env`) works as before it."""
    if value is None:
        return
    if not value.exists():
        raise click.BadParameter(f"{value} does not exist", param_hint="--env-file")
    context = ctx.find_object(_Context)
    if context is not None:
        context.env_file = value


for _command in cli.commands.values():  # every command takes --env-file, as the README says
    _command.params.append(
        click.Option(
            ["--env-file"],
            type=click.Path(dir_okay=False, path_type=Path),
            expose_value=False,
            callback=_env_file_given_late,
            help="Read settings from this file instead of ./.env (environment variables still win).",
        )
    )


def main() -> None:
    """The console script: a bad setting or input is one line and exit 1 (the commands say it); anything
    unforeseen is one line too, with the traceback only at HELPDESK_LOG_LEVEL=DEBUG."""
    try:
        cli(prog_name="helpdesk-kpi")
    except ConnectorError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    except Exception as exc:
        if os.environ.get(f"{ENV_PREFIX}LOG_LEVEL", "").upper() == "DEBUG":
            raise
        click.echo(
            f"helpdesk-kpi: {type(exc).__name__}: {exc} ({ENV_PREFIX}LOG_LEVEL=DEBUG shows where)", err=True
        )
        sys.exit(1)
