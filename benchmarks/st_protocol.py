"""A browser session without a browser: Streamlit's own websocket protocol, spoken the way its frontend speaks
it, so a benchmark can put thirty people on one lab server and measure the server (not thirty Chromium
renderers fighting it for two cores).

    async with ProtocolSession(url, "eos") as s:
        await s.rerun()                                   # open the page; its first run ends
        s.type_into("Your name", "ann"); await s.click("Join")
        await s.wait_for(lambda seen: any("You are **ann**" in t for t in seen))

What it does as the frontend does: one ``rerun_script`` per interaction carrying every widget's value (a
click as a trigger, sent once); the fragments' auto-reruns (``run_every``) at their interval while no
script runs, dropped when a full run starts (not a fragment's; the server asks again for the fragments that
still exist).
What it keeps: the page's elements by delta path (the latest of each), and each text seen with the time it
arrived, so a wait can ask for something that arrived after a given moment (nothing stale).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

#: Element fields that carry what a person reads.
_TEXT_FIELDS = ("body", "label", "text")
ERROR_FORMAT = 1  # Alert.Format.ERROR


def element_text(el: Any) -> tuple[str, str, Any]:
    """(kind, text, the element's own message) of a delta's element."""
    kind = el.WhichOneof("type") or ""
    inner = getattr(el, kind) if kind else None
    text = ""
    for f in _TEXT_FIELDS:
        if inner is not None and inner.DESCRIPTOR.fields_by_name.get(f) is not None:
            v = getattr(inner, f)
            if isinstance(v, str) and v:
                text = v
                break
    return kind, text, inner


class ProtocolSession:
    """One simulated browser session on a Streamlit server (``url`` http://host:port, ``page`` the URL path)."""

    def __init__(self, url: str, page: str) -> None:
        self.ws_url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.page = page
        self.page_hash = ""
        self.elements: dict[tuple[int, ...], Any] = {}
        #: every text that arrived: (monotonic time, kind, text)
        self.seen: list[tuple[float, str, str]] = []
        self.errors: list[str] = []
        self.running = False
        self.finished = asyncio.Event()
        self._values: dict[str, WidgetState] = {}
        self._auto: dict[str, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        #: called with (time, message) for every message that arrives (for a look at the conversation)
        self.trace: Callable[[float, ForwardMsg], None] | None = None

    async def __aenter__(self) -> ProtocolSession:
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=2**26,
                                            open_timeout=120, ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        for t in self._auto.values():
            t.cancel()
        if self._reader is not None:
            self._reader.cancel()
        await self._ws.close()

    # --- sending ------------------------------------------------------------------------------------
    async def rerun(self, trigger: str | None = None, fragment_id: str = "", auto: bool = False) -> None:
        """A ``rerun_script`` as the frontend sends it: every widget's value, ``trigger`` (a button id) once."""
        states = [s for s in self._values.values()]
        if trigger is not None:
            states.append(WidgetState(id=trigger, trigger_value=True))
        cs = ClientState(query_string="", page_script_hash=self.page_hash, page_name=self.page if not
                         self.page_hash else "", fragment_id=fragment_id, is_auto_rerun=auto)
        cs.widget_states.widgets.extend(states)
        if not fragment_id:
            self.finished.clear()
            self.running = True
        await self._ws.send(BackMsg(rerun_script=cs).SerializeToString())

    def widget(self, kind: str, label: str) -> Any:
        """The newest element of ``kind`` (``button``, ``text_input``, …) labelled ``label``."""
        for el in reversed(list(self.elements.values())):
            k, text, inner = element_text(el)
            if k == kind and text == label:
                return inner
        raise LookupError(f"no {kind} {label!r} on the page")

    def type_into(self, label: str, value: str) -> None:
        w = self.widget("text_input", label)
        self._values[w.id] = WidgetState(id=w.id, string_value=value)

    async def click(self, label: str, key: str | None = None) -> None:
        """Press the button ``label`` (or, with ``key``, the one whose widget id names that key)."""
        if key is None:
            b = self.widget("button", label)
        else:
            b = next(inner for el in reversed(list(self.elements.values()))
                     for k, _t, inner in [element_text(el)] if k == "button" and key in inner.id)
        await self.rerun(trigger=b.id)

    # --- receiving ----------------------------------------------------------------------------------
    async def _read(self) -> None:
        async for raw in self._ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            which = msg.WhichOneof("type")
            now = time.monotonic()
            if self.trace is not None:
                self.trace(now, msg)
            if which == "new_session":
                self.page_hash = msg.new_session.page_script_hash or self.page_hash
                self.running = True
                if not msg.metadata.run.fragment_ids:  # a full run: the frontend drops its fragments' timers
                    for t in self._auto.values():
                        t.cancel()
                    self._auto.clear()
            elif which == "delta" and msg.delta.WhichOneof("type") == "new_element":
                el = msg.delta.new_element
                self.elements[tuple(msg.metadata.delta_path)] = el
                kind, text, inner = element_text(el)
                self.seen.append((now, kind, text))
                if kind == "alert" and inner.format == ERROR_FORMAT or kind == "exception":
                    self.errors.append(text or str(inner)[:200])
            elif which == "auto_rerun":
                fid, every = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
                if fid not in self._auto:
                    self._auto[fid] = asyncio.create_task(self._auto_rerun(fid, every))
            elif which == "script_finished":
                if msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:  # (a rerun follows at once)
                    self.running = False
                if msg.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR):
                    self.finished.set()
            elif which == "session_status_changed":
                self.running = msg.session_status_changed.script_is_running
            self._changed.set()

    async def _auto_rerun(self, fragment_id: str, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            if not self.running:  # the frontend does not ask for a fragment while a script runs
                await self.rerun(fragment_id=fragment_id, auto=True)

    async def wait_for(self, found: Callable[[list[tuple[float, str, str]]], Any], timeout_s: float) -> Any:
        """Wait until ``found(self.seen)`` is truthy (checked on every message); its value."""
        deadline = time.monotonic() + timeout_s
        while True:
            got = found(self.seen)
            if got:
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"not seen within {timeout_s:.0f} s; last texts: "
                                   f"{[t for _, _, t in self.seen[-5:]]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 1.0))

    async def wait_finished(self, timeout_s: float) -> None:
        await asyncio.wait_for(self.finished.wait(), timeout=timeout_s)
