"""The registry: every experiment of the lab, declared once. The CLI and the pages are driven by it.

An entry says what the experiment is called (its ``name`` is stored with every run), which settings
type it takes and which result type it returns, the function that runs it, its time bound, whether it
changes brokers (then it runs under the cluster lock), how its result reads as text, and where it is
offered (page, CLI commands). Adding an experiment = settings + function + result + charts + one entry
here (see "How an experiment is built" in the README).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lab.consumer import fetch as consume
from lab.consumer import perftest as consume_perf
from lab.consumer import protocols, static, strategies
from lab.consumer import sweep as consume_sweep
from lab.consumer import text as consumer_text
from lab.core import catalogue
from lab.core.catalogue import Experiment
from lab.eos import duplicates, fencing, pipeline_run, transactions
from lab.eos import settings as eos_settings
from lab.eos import text as text_eos
from lab.lag import rate as lagrate
from lab.lag import scenario as lagdemo
from lab.lag import settings as lag_settings
from lab.lag import text as text_lag
from lab.lag import watch as lagwatch
from lab.producer import perftest, sweep
from lab.producer import run as produce
from lab.producer import text as producer_text
from lab.producer.settings import ProducerSettings
from lab.queues import acks as share_acks
from lab.queues import compare as share_compare
from lab.queues import crash as share_crash
from lab.queues import settings as share_settings
from lab.queues import text as text_share
from lab.replication import elr, segments, text
from lab.replication import scenarios as replication
from lab.replication import settings as replication_settings


def _fixed(seconds: float) -> Callable[[Any], float]:
    return lambda _settings: seconds


def _scenario_limit(settings: Any) -> float:
    return float(getattr(settings, "time_limit_s", None) or 300.0)


_ENTRIES: tuple[Experiment[Any, Any], ...] = (
    Experiment("produce", "produce run", ProducerSettings, produce.ProduceResult, produce.run,
               sweep.time_limit_for, producer_text.produce, page="producer", cli=(("producer", "run"),),
               question=("How many messages per second does this producer configuration deliver, and how long does "
                         "each wait for its acknowledgement?")),
    Experiment("produce.sweep", "producer sweep", sweep.SweepSettings, sweep.SweepResult, sweep.run,
               sweep.time_limit_for, producer_text.sweep, page="producer",
               cli=(("producer", "compression"), ("producer", "batch"), ("producer", "acks"), ("producer", "presets")),
               question=("Which of these producer settings gives the most throughput, and what does it cost in "
                         "latency?")),
    Experiment("produce.cross-check", "cross-check with Kafka's perf tool", perftest.CrossCheckSettings,
               perftest.CrossCheckResult, perftest.cross_check, perftest.time_limit_for, producer_text.cross_check,
               cli=(("producer", "perf-test"),),
               question=("Does the lab measure the same throughput and latency as Kafka's own "
                         "kafka-producer-perf-test?")),
    Experiment("replication.monitor", "replication monitor", replication_settings.MonitorSettings,
               replication.MonitorResult, replication.monitor, lambda s: s.duration_s + 60.0,
               text.monitor, page="replication", cli=(("replication", "monitor"),), live_lines=text.event_lines,
               question=("How do leaders, ISRs and the high watermark of these partitions change while the cluster "
                         "runs?")),
    Experiment("replication.min-isr", "min.insync.replicas scenario", replication_settings.MinIsrSettings,
               replication.MinIsrResult, replication.min_isr, _fixed(300.0), text.min_isr, changes_brokers=True,
               page="replication", cli=(("replication", "min-isr"),), live_lines=text.event_lines,
               question="Which writes does Kafka still accept as brokers go down, with acks=all and with acks=1?",
               own_topic=True),
    Experiment("replication.hw-leo", "HW vs LEO scenario", replication_settings.HwLeoSettings, replication.HwLeoResult,
               replication.hw_leo, _fixed(300.0), text.hw_leo, changes_brokers=True, page="replication",
               cli=(("replication", "hw-leo"),), live_lines=text.event_lines,
               question=("What happens to the high watermark and the ISR when a follower stops fetching, and when it"
                         " comes back?"), own_topic=True),
    Experiment("replication.unclean", "unclean leader election scenario", replication.UncleanSettings,
               replication.UncleanResult, replication.unclean, _fixed(400.0), text.unclean, changes_brokers=True,
               page="replication", cli=(("replication", "unclean"),), live_lines=text.event_lines,
               question=("What does unclean leader election trade: availability after a crash against acknowledged "
                         "writes lost?"), own_topic=True),
    Experiment("replication.elr", "unclean-election fault on Kafka 3.9 and 4.x (ELR)", elr.VersionsSettings,
               elr.VersionsResult, elr.compare_versions, elr.time_limit_for, text.elr_versions, changes_brokers=True,
               page="replication", cli=(("replication", "elr"),), live_lines=text.event_lines,
               question=("With eligible leader replicas (KIP-966, Kafka 4.x), which replica may lead after the "
                         "in-sync one crashes, and what is lost, next to Kafka 3.9?")),
    Experiment("replication.storage", "segments and compaction", replication_settings.StorageSettings,
               segments.StorageResult, segments.storage, _fixed(300.0), text.storage, page="replication",
               cli=(("replication", "storage"),),
               question="How does a partition's log sit on disk in segments, and what does compaction keep?",
               own_topic=True),
    Experiment("eos.idempotent", "duplicates under a frozen leader, without and with idempotence",
               eos_settings.DuplicateSettings, duplicates.DuplicateResult, duplicates.idempotent, _fixed(240.0),
               text_eos.duplicates, changes_brokers=True, page="eos", cli=(("eos", "idempotent"),),
               question=("Does a producer that retries write duplicates when the leader freezes, and does "
                         "idempotence prevent them?"), own_topic=True),
    Experiment("eos.transactional", "transactions: commit, abort, HW vs LSO", eos_settings.TransactionSettings,
               transactions.TransactionResult, transactions.transactional, lambda s: 120.0 + s.hold_open_s,
               text_eos.transactions, page="eos", cli=(("eos", "transactional"),), live_lines=text_eos.step_lines,
               question=("What do read_committed and read_uncommitted consumers see of committed and aborted "
                         "transactions?"), light=True, own_topic=True),
    Experiment("eos.fencing", "fencing a zombie producer", eos_settings.FencingSettings, fencing.FencingResult,
               fencing.fencing, _fixed(120.0), text_eos.fencing, page="eos", cli=(("eos", "fencing"),),
               live_lines=text_eos.step_lines,
               question="What happens to a zombie producer when a new one starts with the same transactional.id?",
               light=True, own_topic=True),
    Experiment("eos.pipeline", "exactly-once pipeline through a crash", eos_settings.PipelineSettings,
               pipeline_run.PipelineResult, pipeline_run.pipeline_scenario, pipeline_run.time_limit_for,
               text_eos.pipeline, changes_brokers=True, page="eos", cli=(("eos", "pipeline"),),
               live_lines=text_eos.step_lines,
               question=("Does a consume-transform-produce pipeline keep exactly once through crashes, and what "
                         "happens without transactions?"), own_topic=True),
    Experiment("consumer.seed", "seed the lab-consumer-tuning topic", consume.SeedSettings, consume.SeedResult,
               consume.seed, _fixed(300.0), consumer_text.seed, page="consumer", cli=(("consumer", "seed"),),
               question="Is the topic the consumer experiments read filled with the messages they expect?", light=True),
    Experiment("consumer.benchmark", "consumer fetch benchmark", consume.BenchSettings, consume.BenchResult,
               consume.bench, consume.time_limit_for, consumer_text.bench, page="consumer",
               cli=(("consumer", "benchmark"),),
               question=("How fast does a consumer with these fetch settings read the topic, and how many fetch "
                         "requests does it take?")),
    Experiment("consumer.sweep", "consumer fetch sweep", consume_sweep.ConsumerSweepSettings,
               consume_sweep.ConsumerSweepResult, consume_sweep.sweep, consume_sweep.sweep_time_limit,
               consumer_text.sweep, page="consumer", cli=(("consumer", "sweep"),),
               question="Which fetch settings let a consumer read fastest, and with how many fetch requests?"),
    Experiment("consumer.cross-check", "cross-check with kafka-consumer-perf-test",
               consume_perf.ConsumerCrossCheckSettings, consume_perf.ConsumerCrossCheckResult,
               consume_perf.cross_check, consume_perf.time_limit_for, consumer_text.cross_check, page="consumer",
               cli=(("consumer", "perf-test"),),
               question="Does the lab's consumer read as fast as Kafka's own kafka-consumer-perf-test?"),
    Experiment("consumer.strategies", "assignment strategies and rebalances", strategies.StrategiesSettings,
               strategies.StrategiesResult, strategies.compare, strategies.time_limit_for, consumer_text.strategies,
               page="consumer", cli=(("consumer", "strategies"),),
               question=("How does each assignment strategy spread partitions over the consumers, and how much does "
                         "a rebalance move?")),
    Experiment("consumer.static-membership", "static vs dynamic membership", static.StaticSettings,
               static.StaticResult, static.compare, static.time_limit_for, consumer_text.static,
               page="consumer", cli=(("consumer", "static-membership"),),
               question="Does a consumer that restarts with a static group.instance.id avoid a rebalance?"),
    Experiment("consumer.protocols", "classic vs consumer group protocol (KIP-848)", protocols.ProtocolsSettings,
               protocols.ProtocolsResult, protocols.compare, protocols.time_limit_for, consumer_text.protocols,
               page="consumer", cli=(("consumer", "protocols"),),
               question=("How do rebalances differ between the classic group protocol and the consumer protocol of "
                         "KIP-848?")),
    Experiment("lag.watch", "lag watch", lag_settings.LagWatchSettings, lagwatch.LagWatchResult, lagwatch.watch,
               lambda s: s.duration_s + 30.0, text_lag.lag_watch, page="lag", cli=(("lag", "watch"),),
               question=("How far behind the end of the log is this consumer group, and is it catching up or falling"
                         " behind?"), light=True),
    Experiment("lag.scenario", "make lag happen", lag_settings.LagDemoSettings, lagdemo.LagDemoResult, lagdemo.run,
               lagdemo.time_limit_for, text_lag.lag_demo, page="lag", cli=(("lag", "scenario"),),
               question=("How does consumer lag build up when consumers are too slow, and how does it recover when "
                         "more join?")),
    Experiment("lag.sustainable-rate", "find the sustainable rate", lag_settings.SustainableRateSettings,
               lagrate.SustainableRateResult, lagrate.find_rate, lagrate.time_limit_for, text_lag.sustainable_rate,
               page="lag", cli=(("lag", "rate"),),
               question="What is the highest produce rate this consumer group keeps up with?"),
    Experiment("share.compare", "share group vs consumer group, more readers than partitions",
               share_settings.ShareCompareSettings, share_compare.ShareCompareResult, share_compare.run,
               share_compare.time_limit_for, text_share.compare, page="share", cli=(("share", "compare"),),
               question=("With more readers than partitions, how much faster does a share group work through a "
                         "backlog than a consumer group, and what happens to the order per partition?")),
    Experiment("share.acks", "accept, release, reject and a poison record", share_settings.ShareAcksSettings,
               share_acks.ShareAcksResult, share_acks.run, share_acks.time_limit_for, text_share.acks, page="share",
               cli=(("share", "acks"),),
               question=("Is every record of a share group accepted exactly once when some fail, and does a record "
                         "that always fails stop at the delivery-count limit?")),
    Experiment("share.crash", "a share consumer dies mid-record", share_settings.ShareCrashSettings,
               share_crash.ShareCrashResult, share_crash.run, share_crash.time_limit_for, text_share.crash,
               page="share", cli=(("share", "crash"),),
               question=("When a share consumer dies holding records, how long until the others get them again?")),
)

catalogue.register(_ENTRIES)
#: name -> experiment (the catalogue's table: the codec, the run store and links read the same one)
REGISTRY: dict[str, Experiment[Any, Any]] = catalogue.TABLE
get = catalogue.get


def for_page(page: str) -> list[Experiment[Any, Any]]:
    return [e for e in REGISTRY.values() if e.page == page]


def for_command(path: Sequence[str]) -> Experiment[Any, Any] | None:
    key = tuple(path)
    return next((e for e in REGISTRY.values() if key in e.cli), None)
