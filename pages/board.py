"""The class board: the open class's runs of one experiment on one chart, live — each student's knob value
against a figure of the result — so the class assembles a sweep together. The teacher hides or highlights
runs and exports the board (offline HTML, PNG). Widgets -> ``lab.lessons.board`` -> Altair."""

from __future__ import annotations

import streamlit as st

from lab import LabError
from lab.classroom import roles
from lab.classroom import session as classes
from lab.lessons import board
from lab.registry import REGISTRY
from lab.runs import store as runs_store
from pages._charts import show_chart
from pages._class import class_panel
from pages._shared import show_error
from pages._whoami import current, identity

#: How often the board reads the run store again (seconds).
REFRESH_S = 3.0

st.title("Class board")
st.caption("Everyone's runs of one experiment in this class, on one chart: each point is one student's run, at the "
           "knob value they chose. Together the points are the sweep the lesson asks about.")

class_panel(None)
klass = current()
if klass is None:
    st.info("No class is open. Start one in the sidebar's **Class** panel (or `kafka-lab class start`); students "
            "join there with a name, and their runs appear here.")
    st.stop()
role, _ = identity(klass)
teacher = role == roles.TEACHER


@st.fragment(run_every=REFRESH_S)
def live() -> None:
    now = current()
    if now is None or now.class_id != klass.class_id:
        st.rerun(scope="app")
    try:
        by_exp = board.points(runs_store.open_store(), klass.class_id)
    except LabError as exc:
        show_error(exc)
        return
    if not by_exp:
        st.info(f"No run of this class has ended yet ({len(now.students)} students joined).")
        return
    names = sorted(by_exp, key=lambda e: -len(by_exp[e]))
    exp = st.selectbox("Experiment", names, key="board_exp",
                       format_func=lambda e: f"{REGISTRY[e].title if e in REGISTRY else e} ({len(by_exp[e])} runs)")
    pts = by_exp[exp]
    knobs, figs = board.varying(pts) or sorted({k for p in pts for k in p.knobs}), board.figure_names(pts)
    cols = st.columns(2)
    x = cols[0].selectbox("Knob (x)", knobs, key="board_x")
    y = cols[1].selectbox("Figure (y)", figs, key="board_y")
    if teacher:
        ids = [p.run_id for p in pts]
        label = {p.run_id: f"{p.who} · {p.knobs.get(x)} · {p.run_id}" for p in pts}
        hide = st.multiselect("Hide runs", ids, default=[r for r in now.hidden if r in ids], format_func=label.get,
                              key="board_hide")
        mark = st.multiselect("Highlight runs", ids, default=[r for r in now.highlighted if r in ids],
                              format_func=label.get, key="board_mark")
        if (tuple(hide), tuple(mark)) != (now.hidden, now.highlighted):
            classes.set_marks(tuple(hide), tuple(mark))
            now = classes.current() or now
    df = board.frame(pts, x, y, now.hidden, now.highlighted)
    st.caption(f"{len(df)} runs shown of {len(pts)}, by {df['student'].nunique() if len(df) else 0} students.")
    show_chart(board.chart(df, x, y, f"{y} by {x}"), f"class-board-{exp}", key="board_chart")
    st.download_button("Board as HTML (offline)", data=lambda: board.board_html(klass.name, exp, df, x, y),
                       file_name=f"class-board-{exp}.html", mime="text/html", key="board_html", on_click="ignore",
                       icon=":material/download:")


live()
