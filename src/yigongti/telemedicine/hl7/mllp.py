"""MLLP (the HL7 minimal lower layer protocol): a message is framed ``0x0b … 0x1c 0x0d`` on a TCP stream.

``MllpServer`` is a threaded TCP server (one thread per connection, many connections at once) that reads
frames however the stream splits them (a frame across several reads, several frames in one read, noise
between frames), hands each to ``handler(text, peer) -> ack text`` and writes the framed ACK back before it
reads the next one (original acknowledgement mode). ``MllpClient`` is the sending side (the CLI, the tests,
the bench). No Django here: the ingest passes its handler in."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

START, END, CR = b"\x0b", b"\x1c", b"\x0d"
MAX_FRAME = 4 * 1024 * 1024  # a larger "message" is not a lab result: drop the connection


def frame(text: str) -> bytes:
    return START + text.encode("utf-8") + END + CR


def decode(data: bytes) -> str:
    """UTF-8, else GB18030 (what Chinese LIS and analysers send when they do not say)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


class FrameReader:
    """Feed it bytes as they arrive; it yields each complete frame's payload."""

    def __init__(self, max_frame: int = MAX_FRAME):
        self.buf = bytearray()
        self.max_frame = max_frame

    def feed(self, data: bytes) -> Iterator[bytes]:
        self.buf += data
        while True:
            start = self.buf.find(START)
            if start < 0:
                self.buf.clear()  # noise outside a frame
                return
            if start:
                del self.buf[:start]
            end = self.buf.find(END + CR, 1)
            if end < 0:
                if len(self.buf) > self.max_frame:
                    raise OverflowError("MLLP frame too large")
                return
            payload = bytes(self.buf[1:end])
            del self.buf[:end + 2]
            yield payload


Handler = Callable[[str, str], str]


class _Connection(socketserver.BaseRequestHandler):
    server: MllpServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(self.server.idle_timeout)
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        reader = FrameReader()
        try:
            while True:
                try:
                    data = sock.recv(65536)
                except (TimeoutError, OSError):
                    return
                if not data:
                    return
                try:
                    frames = list(reader.feed(data))
                except OverflowError:
                    return
                for payload in frames:
                    sock.sendall(frame(self.server.answer(decode(payload), peer)))
        finally:
            if self.server.on_close is not None:
                self.server.on_close()


class MllpServer(socketserver.ThreadingTCPServer):
    """``serialize``: one message at a time across connections (SQLite has one writer anyway); ``on_stop``: run by
    ``stop()`` after the last connection's thread is told to end (the applier of a batching handler); ``reuse_port``:
    SO_REUSEPORT, so that ``yigongti hl7 listen --processes N`` runs N processes on one port (Linux)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: Handler, *, on_close: Callable[[], None] | None = None,
                 on_stop: Callable[[], None] | None = None, serialize: bool = False, idle_timeout: float = 300.0,
                 reuse_port: bool = False):
        self.handler, self.on_close, self.on_stop, self.idle_timeout = handler, on_close, on_stop, idle_timeout
        self.allow_reuse_port = reuse_port  # several listener processes on one port: the kernel spreads connections
        self._lock = threading.Lock() if serialize else None
        super().__init__(address, _Connection)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def answer(self, text: str, peer: str) -> str:
        if self._lock is None:
            return self.handler(text, peer)
        with self._lock:
            return self.handler(text, peer)

    def start(self) -> threading.Thread:
        """Serve in a background thread (tests, the bench); ``stop()`` ends it."""
        t = threading.Thread(target=self.serve_forever, name="mllp", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self.on_stop is not None:
            self.on_stop()


class MllpClient:
    """One connection to an MLLP listener; ``send`` writes a message and waits for its ACK."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reader = FrameReader()
        self.pending: list[bytes] = []

    def send(self, text: str) -> str:
        self.sock.sendall(frame(text))
        return self.receive()

    def receive(self) -> str:
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("MLLP listener closed the connection")
            self.pending.extend(self.reader.feed(data))
        return decode(self.pending.pop(0))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> MllpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
