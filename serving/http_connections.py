"""The REST server's connections: how many may be open, how long a request may take to arrive, and how they end.

The standard library's threading server gives every connection a thread and waits on it as long as the client
likes. Here:
  * at most `max_connections` are open; at the cap the longest-idle kept-alive connection is closed to make room,
    and when none is idle the newcomer is answered 503 (by the accepting thread, which never blocks on it);
  * once a request's first byte is in, its head and body share one deadline (`read_timeout_seconds`), so a client
    trickling bytes cannot hold a thread; between requests a connection may wait `idle_timeout_seconds`;
  * while draining, a connection waiting for its next request gives it DRAIN_GRACE_SECONDS to arrive (one already on
    its way is still answered), then closes: kept-alive connections close after their current response.
"""
import collections
import io
import select
import socket
import threading
import time
from typing import Deque, Dict, Optional, Tuple

from serving.limits import ServingLimits

DRAIN_GRACE_SECONDS = 0.5
_SLICE_SECONDS = 0.25  # how often a connection waiting for its next request looks at the drain and eviction flags
_REFUSED_LINGER_SECONDS = 1.0  # a refused socket stays open this long, so its 503 is read before the close
_MAX_REFUSED = 256


class Connection:
    """One admitted connection, as its handler thread and the accepting thread see it."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.idle_since: Optional[float] = None  # set while it waits for its next request
        self.evicted = False  # closed to make room; it ends after its current response


class Connections:
    """The open connections, the cap on them, and the drain."""

    def __init__(self, max_connections: int):
        self._max = max_connections
        self._cond = threading.Condition()
        self._open: Dict[socket.socket, Connection] = {}
        self.draining_since: Optional[float] = None
        self._refused: Deque[Tuple[float, socket.socket]] = collections.deque()

    def admit(self, sock: socket.socket) -> Optional[Connection]:
        """The new connection, or None at the cap when no open connection is idle to make room."""
        with self._cond:
            staying = [c for c in self._open.values() if not c.evicted]
            if len(staying) >= self._max:
                idle = [c for c in staying if c.idle_since is not None]
                if not idle:
                    return None
                min(idle, key=lambda c: c.idle_since).evicted = True
            connection = self._open[sock] = Connection(sock)
            return connection

    def release(self, sock: socket.socket) -> None:
        with self._cond:
            self._open.pop(sock, None)
            self._cond.notify_all()

    def get(self, sock: socket.socket) -> Connection:
        with self._cond:
            return self._open[sock]

    def refuse(self, sock: socket.socket, response: bytes) -> None:
        """Sends `response` without blocking and keeps the socket a moment (see linger_refused)."""
        try:
            sock.setblocking(False)
            sock.send(response)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            sock.close()
            return
        self._refused.append((time.monotonic() + _REFUSED_LINGER_SECONDS, sock))
        self.linger_refused()

    def linger_refused(self, all_of_them: bool = False) -> None:
        """Closes refused sockets whose moment has passed, first reading what their client sent: closing with
        unread bytes resets the connection, and the client may lose the 503 it has not read yet."""
        now = time.monotonic()
        while self._refused and (all_of_them or self._refused[0][0] <= now or len(self._refused) > _MAX_REFUSED):
            _, sock = self._refused.popleft()
            try:
                while sock.recv(1 << 16):
                    pass
            except OSError:
                pass
            sock.close()

    def begin_drain(self) -> None:
        with self._cond:
            self.draining_since = time.monotonic()
            self._cond.notify_all()

    def wait_closed(self, timeout: float) -> int:
        """Waits up to `timeout` for every connection to close; returns how many are still open."""
        with self._cond:
            self._cond.wait_for(lambda: not self._open, max(0.0, timeout))
            return len(self._open)

    def close_all(self) -> None:
        """Cuts the connections still open (their requests fail): the drain's grace is over."""
        with self._cond:
            socks = list(self._open)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class RequestReader(io.RawIOBase):
    """The raw stream under a connection's rfile: waits for a request's first byte in slices (so the connection can
    be taken back while it idles), then reads the rest of the request against one deadline."""

    def __init__(self, connection: Connection, connections: Connections, limits: ServingLimits):
        self._connection = connection
        self._connections = connections
        self._limits = limits
        self._poll = select.poll()
        self._poll.register(connection.sock, select.POLLIN)
        self._waiting = True
        self._deadline = 0.0

    def readable(self) -> bool:
        return True

    def expect_request(self) -> None:
        """The next read waits for a new request."""
        self._waiting = True

    def start_request(self) -> None:
        """The request's first byte is in (perhaps already buffered): its deadline runs from now."""
        self._waiting = False
        self._deadline = time.monotonic() + self._limits.read_timeout_seconds

    def readinto(self, buffer) -> int:
        if self._waiting:
            if not self._await_request():
                return 0  # read as the end of the stream: the connection closes
            self.start_request()
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"the request did not arrive within {self._limits.read_timeout_seconds:g} s")
        self._connection.sock.settimeout(remaining)
        return self._connection.sock.recv_into(buffer)

    def _await_request(self) -> bool:
        """True once a byte of the next request is in; False when the connection should close instead: idle too
        long, evicted to make room, or draining past the grace."""
        connection = self._connection
        connection.idle_since = since = time.monotonic()
        try:
            end = since + self._limits.idle_timeout_seconds
            while not connection.evicted:
                draining = self._connections.draining_since
                if draining is not None:
                    end = min(end, max(draining, since) + DRAIN_GRACE_SECONDS)
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return False
                if self._poll.poll(min(remaining, _SLICE_SECONDS) * 1000):
                    return True
            return False
        finally:
            connection.idle_since = None

    def client_waiting(self) -> bool:
        """Whether the client is still there: no hang-up or half-close on the socket (pipelined bytes are fine)."""
        events = select.poll()
        events.register(self._connection.sock, select.POLLIN | select.POLLRDHUP)
        for _, event in events.poll(0):
            if event & (select.POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL):
                return False
        return True
