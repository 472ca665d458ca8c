"""The one page runner: Run/Cancel, live progress and a partial chart, errors with their hint, partial
results kept, and always ready to run again however the last run ended.

    runner = PageRunner("producer", cluster)
    runner.controls(lambda: (experiments.get("produce"), build_settings()), st.sidebar)
    runner.show(draw_result, draw_partial)

The run lives in the launcher's process-wide table; the page keeps only its id (in the session and in
the address bar as ``?run=…``), so a reload finds the run again, a second tab sees that the cluster is
busy and can watch, and a server thread cancels the runs of browser sessions that have gone away.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

from lab import ClusterBusy, LabError
from lab.cluster import Cluster
from lab.registry import Experiment
from lab.runs import launcher
from lab.runs.headline import headline
from lab.runs.launcher import LabRun
from pages._charts import run_downloads
from pages._shared import show_error
from pages._whoami import identity

#: How often the live view redraws while a run goes on (seconds).
LIVE_REFRESH_S = 1.0
#: How often the server looks for runs whose browser session has ended (seconds).
REAP_EVERY_S = 2.0
#: Query parameter that holds the page's current run id.
RUN_PARAM = "run"

Make = Callable[[], tuple[Experiment[Any, Any], Any]]


def session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def _session_alive(sid: str) -> bool:
    from streamlit.runtime import Runtime

    return not Runtime.exists() or Runtime.instance().is_active_session(sid)


@st.cache_resource
def _reaper() -> threading.Thread | None:
    """One thread per server: cancel the runs of browser sessions that ended (closed tab, reload)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():  # AppTest: no server, no sessions to outlive
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(REAP_EVERY_S):
            launcher.cancel_owned_by(_session_alive)

    t = threading.Thread(target=loop, name="lab-session-reaper", daemon=True)
    t.start()
    return t


def _stored_run(run_id: str, page: str) -> Any:
    """The stored run ``run_id`` when it has a result and belongs to ``page``; else None (and a note)."""
    from lab import registry as experiments
    from lab.runs import store as runs

    try:
        rec = runs.open_store().get(run_id)
    except LabError as exc:
        st.caption(f"The run store cannot be read ({exc.message}), so run `{run_id}` cannot be shown.")
        return None
    exp = experiments.REGISTRY.get(rec.experiment) if rec is not None else None
    if rec is None or rec.result is None or exp is None or exp.page != page:
        st.caption(f"Run `{run_id}` from the link is not a stored run of this page.")
        return None
    return rec


def _lead(exp: Experiment[Any, Any], result: Any) -> None:
    """What the run answers, first: the experiment's question and its headline figures in words (the same
    ones its HTML report leads with)."""
    figures = headline(result)
    if exp.question:
        st.markdown(f"**{exp.question}**")
    if figures:
        st.markdown(" · ".join(f"{f.label}: **{f.text}**" for f in figures))


def cancel(r: LabRun[Any], box: Any) -> None:
    """Cancel ``r`` as this browser session (a student in a class may cancel only their own); a refusal is shown."""
    try:
        r.cancel_as(session_id(), identity()[0])
    except LabError as exc:
        with box:
            show_error(exc)


class PageRunner:
    """Run/Cancel and result display for one page (``page`` keys its widgets and session state)."""

    def __init__(self, page: str, cluster: Cluster, titles: dict[str, str] | None = None, *,
                 key: str | None = None) -> None:
        self.page = page
        #: prefix of this runner's widget keys (default: the page's name)
        self.key = key or page
        self.cluster = cluster
        #: what the page calls each experiment (default: the registry's title)
        self.titles = dict(titles or {})
        self._key = f"{self.key}_run_id"
        _reaper()
        #: a finished run read back from the run store (a link to it, or a reload after the server restarted)
        self.stored: Any = None
        if self._key not in st.session_state:  # a reload or a link: the address bar names the run
            rid = st.query_params.get(RUN_PARAM)
            found = launcher.get(rid) if rid else None
            if found is not None and found.experiment.page == page:
                st.session_state[self._key] = found.run_id
            elif rid:
                self.stored = _stored_run(rid, page)

    # --- state --------------------------------------------------------------------------------------
    def current(self) -> LabRun[Any] | None:
        rid = st.session_state.get(self._key)
        return launcher.get(rid) if rid else None

    @property
    def running(self) -> bool:
        r = self.current()
        return r is not None and not r.done

    def _owned(self, r: LabRun[Any]) -> bool:
        return r.owner is None or r.owner == session_id()

    def _adopt(self, r: LabRun[Any]) -> None:
        st.session_state.pop(self._busy_key, None)
        st.session_state[self._key] = r.run_id
        st.query_params[RUN_PARAM] = r.run_id

    # --- controls -----------------------------------------------------------------------------------
    def controls(self, make: Make | None, where: Any = None, *, invalid: LabError | None = None) -> None:
        """Run and Cancel buttons; ``make`` builds (experiment, settings) when Run is pressed. With
        ``invalid`` (the settings did not validate) Run is off and the reason is shown. While this page's
        run goes on, Run reads "Running…" and is off."""
        box = where if where is not None else st.container()
        if invalid is not None:
            with box:
                show_error(invalid)
        cols = box.columns(2)
        r = self.current()
        running = r is not None and not r.done
        pressed = cols[0].button("Running…" if running else "Run", type="primary", key=f"{self.key}_run_btn",
                                 disabled=running or make is None or invalid is not None)
        if pressed and self._start(make, box):  # type: ignore[arg-type]
            st.rerun()  # draw the page again at once: Run turns into "Running…", the live view starts
        can_cancel = running and r is not None and self._owned(r)
        if cols[1].button("Cancel", key=f"{self.key}_cancel_btn", disabled=not can_cancel) and r is not None:
            cancel(r, box)
        self._refusal(box)

    def start(self, exp: Experiment[Any, Any], settings: Any, box: Any, *,
              lesson: tuple[str, str | None] | None = None) -> bool:
        """Launch ``exp`` with ``settings`` as this runner's run (a lesson's preset: ``lesson`` is its id and
        the prediction, kept with the run); False (and the reason in ``box``) when it was refused."""
        return self._start(lambda: (exp, settings), box, lesson)

    def _start(self, make: Make, box: Any, lesson: tuple[str, str | None] | None = None) -> bool:
        """Launch the run; False (and the reason on the page) when it was refused."""
        st.session_state.pop(self._busy_key, None)
        try:
            exp, settings = make()
            role, who = identity()
            r = launcher.launch(exp, self.cluster, settings, face="app", owner=session_id(), lesson=lesson,
                                role=role, who=who)
        except ClusterBusy as exc:
            holder = getattr(exc, "holder", None)
            st.session_state[self._busy_key] = (exc, getattr(holder, "run_id", None))
            return False
        except LabError as exc:
            with box:
                show_error(exc)
            return False
        self._adopt(r)
        return True

    @property
    def _busy_key(self) -> str:
        return f"{self.key}_busy_refusal"

    def refusal(self, box: Any) -> None:
        """The "cluster is busy" refusal of the last start, in ``box`` (``controls`` shows it by itself)."""
        self._refusal(box)

    def _refusal(self, box: Any) -> None:
        """The "cluster is busy" refusal of the last Run, shown while the other run holds the cluster and
        gone by itself (with Run ready again) once it has let go."""
        if self._busy_key not in st.session_state:
            return

        @st.fragment(run_every=LIVE_REFRESH_S)
        def refusal() -> None:
            found = st.session_state.get(self._busy_key)
            if found is None:
                return
            exc, holder_run = found
            if self.cluster.lock_holder() is None:
                st.session_state.pop(self._busy_key, None)
                st.rerun(scope="app")
            show_error(exc)
            other = launcher.get(holder_run) if holder_run else None
            if other is not None and not other.done and other.experiment.page == self.page:
                st.button("Watch it", key=f"{self.key}_watch_btn", on_click=self._adopt, args=(other,))
            st.caption("This message goes away by itself when the cluster is free again.")

        with box:
            refusal()

    # --- results ------------------------------------------------------------------------------------
    def show(self, draw_result: Callable[[Any], None], draw_partial: Callable[[Any], None],
             *, idle: str = "Set the knobs in the sidebar and press **Run**.") -> None:
        """The live view while running; then the result (or the error and what was measured before it)."""
        r = self.current()
        if r is None and self.stored is not None:
            rec = self.stored
            st.info(f"Stored run `{rec.run_id}` ({rec.status}) of {rec.started_at[:19].replace('T', ' ')} UTC, "
                    "opened from its link. Press **Run** to run these settings again; the Runs page has its "
                    "history and comparisons.")
            if rec.stopped:
                st.warning(f"It stopped early: {rec.stopped}")
            draw_result(rec.result)
            return
        if r is None:
            if idle:
                st.info(idle)
            return
        if not r.done:
            self._live(draw_partial)
            return
        err = r.error
        if err is not None:
            show_error(err if isinstance(err, LabError) else LabError(f"The run failed: {err!r}"))
            partial = r.progress().partial
            if partial is not None:
                st.caption("What was measured up to the failure:")
                draw_partial(partial)
            return
        result = r.result
        if result is None:
            return
        info = getattr(result, "run", None)
        title = self.titles.get(r.experiment.name, r.experiment.title)
        if getattr(result, "stopped", None):
            st.warning(f"{title}: {result.stopped} — what was measured until then is shown below.")
        elif info is not None:
            st.success(f"{title} finished in {info.elapsed_s:.0f} s.")
        if info is not None:
            facts = info.cluster
            st.caption(f"Run `{info.run_id}` · {info.started_at[:19].replace('T', ' ')} UTC · {facts.backend} "
                       f"cluster" + (f" (Kafka {facts.kafka_version})" if facts.kafka_version else "")
                       + f", {facts.broker_count} brokers")
        _lead(r.experiment, result)
        run_downloads(result, key=self.key)
        draw_result(result)

    def _live(self, draw_partial: Callable[[Any], None]) -> None:
        @st.fragment(run_every=LIVE_REFRESH_S)
        def live() -> None:
            r = self.current()
            if r is None:
                return
            if r.done:
                st.rerun(scope="app")  # the whole page: buttons back to Run, the final result drawn
            p = r.progress()
            st.progress(p.fraction if p.fraction is not None else 0.0,
                        text=f"{self.titles.get(r.experiment.name, r.experiment.title)} — "
                             f"{p.message or 'starting…'} ({p.elapsed_s:.0f} s)")
            if not self._owned(r):
                st.caption(f"Watching {r.describe()}.")
            if p.partial is not None:
                draw_partial(p.partial)

        live()
