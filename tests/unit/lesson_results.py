"""Hand-made results of the lessons' experiments, with known figures (no Kafka): one that shows each
lesson's effect, and levers to craft one where the effect is absent."""

from __future__ import annotations

import dataclasses

from sample_runs import info, produce

from lab.consumer.groups import GroupTimeline
from lab.consumer.static import StaticCase, StaticResult
from lab.consumer.strategies import RebalanceFigures, StrategiesResult, StrategyRun
from lab.core.stats import LatencySummary
from lab.core.verdict import Doubt
from lab.eos.transactions import TransactionResult, TxnOutcome
from lab.kafka.load import ProbeOutcome
from lab.kafka.timeline import Timeline
from lab.lag.scenario import LagDemoPhase, LagDemoResult
from lab.lag.settings import LagWatchSettings
from lab.lag.status import GroupStatus
from lab.lag.watch import LagWatchResult
from lab.lessons import consumer as consumer_lessons
from lab.lessons import eos as eos_lessons
from lab.lessons import lag as lag_lessons
from lab.lessons import producer as producer_lessons
from lab.lessons import share as share_lessons
from lab.producer.run import ProduceResult
from lab.producer.sweep import SweepResult
from lab.queues.compare import ShareCompareResult, SideResult
from lab.queues.members import Delivery
from lab.replication.scenarios import MIN_ISR_PHASES, HwLeoResult, MinIsrPhase, MinIsrResult
from lab.replication.settings import HwLeoSettings, MinIsrSettings


def _probe(acks: str, acked: int, n: int = 20) -> ProbeOutcome:
    return ProbeOutcome(acks, n, acked, n - acked, {"NOT_ENOUGH_REPLICAS": n - acked} if acked < n else {})


def min_isr(min_insync: int = 2, one_down_all: int = 20, two_down_all: int = 0, two_down_one: int = 20) -> MinIsrResult:
    """Leader 1, followers 2 and 3 stopped in turn; acks=all acknowledged ``one_down_all`` and ``two_down_all``
    of 20 with one and two followers down."""
    isr = {0: (1, 2, 3), 1: (1, 3), 2: (1,), 3: (1, 2), 4: (1, 2, 3)}
    down = {0: (), 1: (2,), 2: (2, 3), 3: (3,), 4: ()}
    all_acked = {1: one_down_all, 2: two_down_all}
    phases = tuple(MinIsrPhase(name, float(i * 3), down[i], 1, isr[i], _probe("all", all_acked.get(i, 20)),
                               _probe("1", two_down_one if i == 2 else 20)) for i, name in enumerate(MIN_ISR_PHASES))
    return MinIsrResult(MinIsrSettings(min_insync_replicas=min_insync), 1, (2, 3), phases, Timeline(),
                        run=info("20261206T160000-min1sr", "replication.min-isr"))


def transactions(rc_aborted: int = 0, ru_aborted: int = 18, aborted: int = 2) -> TransactionResult:
    s = eos_lessons.PRESET if aborted == 2 else dataclasses.replace(eos_lessons.PRESET, aborted=aborted)
    outcomes = tuple(TxnOutcome(i, not s.is_aborted(i), {0: 3, 1: 3, 2: 3})
                     for i in range(s.transactions))
    n_aborted = sum(9 for o in outcomes if not o.committed)
    return TransactionResult(s, "lab-txn", None, outcomes, (), (), 1.0, 4.0, 54 - n_aborted + rc_aborted,
                             54 - n_aborted + ru_aborted, rc_aborted, ru_aborted, held_hw={0: 23, 1: 23, 2: 23},
                             held_lso={0: 20, 1: 20, 2: 20}, held_position={0: 20, 1: 20, 2: 20},
                             run=info("20261206T160000-txn000", "eos.transactional"))


def _codec_run(codec: str, msgs_per_s: float, ratio: float, p99: float | None = None,
               verdict: tuple[Doubt, ...] = ()) -> ProduceResult:
    r = produce(f"cell-{codec}")
    base = producer_lessons.PRESET.base
    lat = r.latency if p99 is None else LatencySummary(500, p99 / 2, p99 / 3, p99 * 0.8, p99, p99 * 1.2, p99 * 2)
    stats = dataclasses.replace(r.stats, compression_ratio=ratio, wire_bytes=int(1000 * 520 / ratio))
    return dataclasses.replace(r, settings=base.replace(compression=codec, label=codec), msgs_per_s=msgs_per_s,
                               delivered=1000, latency=lat, stats=stats, verdict=verdict, run=None)


#: codec -> (max msg/s, compression ratio, fixed-rate p99 ms)
CODECS = {"none": (52_000.0, 0.97, 2.1), "lz4": (48_000.0, 2.31, 2.4), "zstd": (41_000.0, 3.62, 3.3),
          "gzip": (19_500.0, 3.41, 6.8)}


def codec_sweep(cells: dict[str, tuple[float, float, float]] | None = None, fixed: bool = True,
                doubt: Doubt | None = None) -> SweepResult:
    cells = cells or CODECS
    runs = tuple(_codec_run(c, tp, ratio) for c, (tp, ratio, _) in cells.items())
    fixed_runs = tuple(_codec_run(c, 9_750.0, ratio, p99, (doubt,) if doubt and c == "lz4" else ())
                       for c, (_, ratio, p99) in cells.items()) if fixed else ()
    return SweepResult(producer_lessons.PRESET, runs, len(runs), 30.0, fixed_rate=9_750.0 if fixed else None,
                       fixed=fixed_runs, run=info("20261206T160000-codecs", "produce.sweep"))


def _rebalance(what: str, stalled: int, members: int, revoked: int, seconds: float) -> RebalanceFigures:
    empty = {f"m{i}": (0.3 if i < stalled else 0.0) for i in range(members)}
    return RebalanceFigures(what, 10.0, 10.0 + seconds, 1.0, 0.3, empty, revoked, 2, max(0, revoked - 2), 3)


def _strategy(name: str, join: tuple[int, int, float], leave: tuple[int, int, float]) -> StrategyRun:
    return StrategyRun(name, ("a", "b"), {}, (_rebalance("join", join[0], 4, join[1], join[2]),
                                            _rebalance("leave", leave[0], 3, leave[1], leave[2])),
                       GroupTimeline((), (), (), ()), 1000)


def strategies(coop_join: tuple[int, int, float] = (1, 2, 1.38),
               coop_leave: tuple[int, int, float] = (1, 3, 0.32)) -> StrategiesResult:
    """range: every member stops and all 8 partitions are revoked on both rebalances."""
    runs = (_strategy("range", (4, 8, 0.45), (3, 8, 0.38)), _strategy("cooperative-sticky", coop_join, coop_leave))
    return StrategiesResult(consumer_lessons.PRESET, runs, run=info("20261206T160000-strats", "consumer.strategies"))


def lag_demo(slow: tuple[int, int] = (0, 1_150), out: tuple[int, int] = (1_150, 40)) -> LagDemoResult:
    s = lag_lessons.PRESET
    phases = (LagDemoPhase("slow", 0.0, 10.0, 1, slow[0], slow[1], GroupStatus.WARN, "lag growing"),
              LagDemoPhase("scale-out", 10.0, 20.0, 4, out[0], out[1], GroupStatus.OK, "caught up"))
    watch = LagWatchResult(LagWatchSettings("g"), (), (), GroupStatus.OK)
    return LagDemoResult(s, "lab-lag-t", "g", watch, phases, run=info("20261206T160000-lagdem", "lag.scenario"))


def hw_leo(stalled_s: float | None = 5.4, left_after_s: float | None = 5.2) -> HwLeoResult:
    """Follower 2 of leader 1 paused at 3.0 s; it left the ISR ``left_after_s`` later; resumed 5 s after."""
    left = None if left_after_s is None else 3.0 + left_after_s
    resumed = None if left is None else left + 5.0
    return HwLeoResult(HwLeoSettings(), 1, 2, 5000, 3.0, left, resumed, None if resumed is None else resumed + 1.7,
                       stalled_s, 1_030, Timeline(), run=info("20261206T160000-hwleo0", "replication.hw-leo"))


def _static_case(case: str, callbacks: int, gen: tuple[int, int], same: bool = True) -> StaticCase:
    return StaticCase(case, "member-2", 10.0, 12.1, gen[0], gen[1], callbacks, same, 0.8,
                      GroupTimeline((), (), (), ()))


def static(static_callbacks: int = 0, static_gen: tuple[int, int] = (3, 3)) -> StaticResult:
    cases = (_static_case("static, back in time", static_callbacks, static_gen),
             _static_case("dynamic", 8, (2, 4), same=False))
    return StaticResult(consumer_lessons.STATIC_PRESET, cases,
                        run=info("20261206T160000-static", "consumer.static-membership"))


def _side(kind: str, members: int, busy: int, per_s: float, records: int = 300, complete: bool = True) -> SideResult:
    """``records`` records finished by the first ``busy`` of ``members`` at ``per_s`` records/s, round-robin over
    two partitions (a share group's out of offset order within each partition, a consumer group's in order)."""
    names = tuple(f"{kind}-{i}" for i in range(1, members + 1))
    ds = []
    for seq in range(records):
        partition, offset = seq % 2, seq // 2
        if kind == "share" and offset % 2:  # every other record of a partition finishes before the one before it
            offset -= 1
        elif kind == "share":
            offset += 1
        ds.append(Delivery(round(0.5 + seq / per_s, 4), names[seq % busy], partition, min(offset, records // 2 - 1),
                           seq, 1, "accept" if kind == "share" else "processed"))
    return SideResult(kind, f"lab-{kind}-t", names, 0.0, tuple(ds), complete)


def share_compare(share_per_s: float = 150.0, group_per_s: float = 70.0, complete: bool = True) -> ShareCompareResult:
    s = share_lessons.PRESET
    return ShareCompareResult(s, "lab-share-t", _side("share", 6, 6, share_per_s, complete=complete),
                              _side("group", 6, 2, group_per_s), run=info("20261206T170000-shareq", "share.compare"))
