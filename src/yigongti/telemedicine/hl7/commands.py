"""``yigongti hl7 listen`` (the MLLP listener for analysers and the LIS) and ``yigongti hl7 send FILE`` (send
messages from a file, one ACK printed per message — for testing an interface)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import click

DEFAULT_PORT = 2575  # the IANA port of HL7 over MLLP


def default_port() -> int:
    return int(os.environ.get("YIGONGTI_HL7_PORT") or DEFAULT_PORT)


def make_server(host: str, port: int, reuse_port: bool = False):
    """The listener applying messages through ``ingest``. On PostgreSQL the connections' messages go to one
    applier thread that applies whatever has queued as a batch (``batch.Batcher``: one transaction per batch);
    on SQLite (one writer) messages are applied one at a time and each connection's thread closes its database
    connection when the sender hangs up."""
    from django.db import connection

    from .ingest import ingest
    from .mllp import MllpServer

    if connection.vendor == "sqlite":
        return MllpServer((host, port), ingest, on_close=_close_connection, serialize=True, reuse_port=reuse_port)
    from .batch import Batcher, ingest_many

    _warm_up()

    def apply(items):
        connection.close_if_unusable_or_obsolete()  # the applier's own connection, across a database restart
        return ingest_many(items)

    batcher = Batcher(apply, on_exit=_close_connection)
    return MllpServer((host, port), batcher, on_stop=batcher.close, reuse_port=reuse_port)


def _warm_up() -> None:
    """Load now what the first batch would otherwise load while its senders wait: the URL conf that the inbox
    links are reversed from (importing every app's pages and API, seconds of CPU) and the lab catalogue. With
    ``--processes N`` each process would pay it on its first message, inside the traffic."""
    from django.urls import get_resolver

    from .. import lab

    get_resolver().reverse_dict  # noqa: B018  (populates the resolver)
    lab.catalogue()
    _close_connection()  # the applier thread opens its own


def _close_connection() -> None:
    from django.db import connection

    connection.close()  # this thread's own connection (the proxy resolves per thread)


@click.group()
def hl7():
    """HL7 v2 (ORU^R01 lab results) over MLLP."""


@hl7.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: all).")
@click.option("--port", default=None, type=int, help=f"TCP port (default YIGONGTI_HL7_PORT, else {DEFAULT_PORT}).")
@click.option("--processes", default=1, show_default=True,
              help="Listener processes sharing the port (SO_REUSEPORT): one core each on PostgreSQL.")
@click.option("--reuse-port", is_flag=True, hidden=True)
def listen(host: str, port: int | None, processes: int = 1, reuse_port: bool = False):
    """Listen for ORU^R01 over MLLP and answer each message with an ACK."""
    port = port or default_port()
    if processes > 1:
        _run_processes(host, port, processes)
        return
    from yigongti.cli import _django

    _django()
    server = make_server(host, port, reuse_port=reuse_port)

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"HL7 MLLP 监听 {host}:{server.port}（ORU^R01 → 检验结果）")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if server.on_stop is not None:
            server.on_stop()


def _run_processes(host: str, port: int, n: int) -> None:
    """N listener processes on one port; a SIGTERM (or Ctrl-C) stops them all."""
    import subprocess

    cmd = [sys.executable, "-m", "yigongti", "hl7", "listen", "--host", host, "--port", str(port), "--reuse-port"]
    children = [subprocess.Popen(cmd) for _ in range(n)]

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        for p in children:
            p.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_children(children)


def split_messages(text: str) -> list[str]:
    """Messages of a file: each begins with MSH (segments by CR or newlines), MLLP framing bytes ignored."""
    text = text.replace("\x0b", "").replace("\x1c", "").replace("\r\n", "\n").replace("\r", "\n")
    out: list[list[str]] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if line.startswith("MSH") or not out:
            out.append([])
        out[-1].append(line)
    return ["\r".join(m) + "\r" for m in out]


@hl7.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int, help=f"TCP port (default YIGONGTI_HL7_PORT, else {DEFAULT_PORT}).")
def send(file: Path, host: str, port: int | None):
    """Send the messages of FILE over MLLP; print each ACK's MSA. Exit 1 when one was not accepted."""
    from .ack import ack_code, ack_text
    from .mllp import MllpClient

    messages = split_messages(file.read_text(encoding="utf-8"))
    if not messages:
        raise click.ClickException("文件中没有 HL7 消息")
    failed = 0
    with MllpClient(host, port or default_port()) as client:
        for raw in messages:
            ack = client.send(raw)
            code = ack_code(ack)
            failed += code != "AA"
            click.echo(f"{code}\t{ack_text(ack)}")
    sys.exit(1 if failed else 0)


def start_demo_children(host: str = "127.0.0.1") -> list:
    """``yigongti demo``: the HL7 listener (port YIGONGTI_HL7_PORT, default 2575) and ``yigongti worker`` (the
    critical-value escalation and the other recurring jobs) as child processes."""
    import subprocess

    cmd = [sys.executable, "-m", "yigongti"]
    children = [subprocess.Popen([*cmd, "hl7", "listen", "--host", host, "--port", str(default_port())]),
                subprocess.Popen([*cmd, "worker"])]
    click.echo(f"HL7 监听端口 {default_port()}，后台任务 worker 已启动")
    return children


def stop_children(children: list) -> None:
    import subprocess

    for p in children:
        if p.poll() is None:
            p.terminate()
    for p in children:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
