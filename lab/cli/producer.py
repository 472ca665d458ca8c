"""`kafka-lab producer run|compression|batch|acks|presets|perf-test|cleanup`: producer tuning (phase 4;
`kafka-lab producer …` is the old name, still accepted).

The flags build one ``ProducerSettings`` (validated there, with what is allowed); sweeps wrap it in a
``SweepSettings``; the registry's experiment runs it through the one CLI runner.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from lab import registry as experiments
from lab.cli import run as runner
from lab.cli.base import Handler
from lab.cluster import Cluster
from lab.core.errors import SettingsError
from lab.kafka import topics
from lab.producer import perftest
from lab.producer.settings import ACKS, CODECS, FIRST_RUN_DURATION_S, PAYLOADS, PRESETS, ProducerSettings, preset
from lab.producer.sweep import SweepSettings

#: flag -> ProducerSettings field
KNOBS = (("acks", "acks"), ("codec", "compression"), ("level", "compression_level"), ("linger_ms", "linger_ms"),
         ("batch_size", "batch_size"), ("max_in_flight", "max_in_flight"), ("buffer_kbytes", "buffer_kbytes"),
         ("message_size", "message_size"), ("payload", "payload"), ("keys", "key_spread"),
         ("partitions", "partitions"), ("replication_factor", "replication_factor"), ("rate", "rate"),
         ("delivery_timeout_ms", "delivery_timeout_ms"))


def producer_settings(args: argparse.Namespace) -> ProducerSettings:
    """ProducerSettings from the producer flags (validation, with what is allowed, happens in the dataclass)."""
    fields: dict[str, Any] = {name: getattr(args, flag) for flag, name in KNOBS
                              if getattr(args, flag, None) is not None}
    if args.idempotence is not None:
        fields["enable_idempotence"] = args.idempotence
    if args.end_to_end:
        fields["end_to_end"] = True
    if args.duration is not None:
        fields.update(duration_s=args.duration, count=args.count)
    elif args.count is not None:
        fields["count"] = args.count
    else:  # neither: a run long enough for its figures to settle (see FIRST_RUN_DURATION_S)
        fields.update(duration_s=FIRST_RUN_DURATION_S, count=None)
    if args.preset:
        if args.preset not in PRESETS:
            raise SettingsError(f"Unknown preset {args.preset!r}.", hint=f"Use one of: {', '.join(PRESETS)}.")
        return preset(args.preset, **fields)
    return ProducerSettings(**fields)


def csv(text: str | None, kind: Callable[[str], Any]) -> tuple[Any, ...]:
    """``"0,5,10"`` -> (0.0, 5.0, 10.0); no flag -> () (the sweep's default values)."""
    if text is None:
        return ()
    try:
        return tuple(kind(x.strip()) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise SettingsError(f"Could not read the list {text!r}: {exc}.",
                            hint="Give comma-separated values, e.g. 0,5,10.") from exc


def cmd_produce(args: argparse.Namespace, cluster: Cluster) -> Any:
    return runner.run(experiments.get("produce"), args, cluster, producer_settings(args))


def sweep_handler(kind: str) -> Handler:
    def handler(args: argparse.Namespace, cluster: Cluster) -> Any:
        settings = SweepSettings(
            kind=kind, base=producer_settings(args), grid="full", codecs=csv(getattr(args, "codecs", None), str),
            lingers_ms=csv(getattr(args, "lingers", None), float), batch_sizes=csv(getattr(args, "sizes", None), int),
            repeats=args.repeats, fixed_rate=args.fixed_rate, at_fixed_rate=not args.no_fixed_rate)
        return runner.run(experiments.get("produce.sweep"), args, cluster, settings)
    return handler


def cmd_perf_test(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = perftest.CrossCheckSettings(producer_settings(args), perf_only=args.perf_only)
    return runner.run(experiments.get("produce.cross-check"), args, cluster, settings)


def cmd_cleanup(args: argparse.Namespace, cluster: Cluster) -> Any:
    names = topics.cleanup_topics(cluster)
    return {"deleted": names} if args.json else f"Deleted {len(names)} topic(s) left behind by produce runs."


def knobs_parent() -> argparse.ArgumentParser:
    knobs = argparse.ArgumentParser(add_help=False)
    g = knobs.add_argument_group("producer settings (defaults: ProducerSettings / the preset)")
    g.add_argument("--preset", help=f"start from a preset: {', '.join(repr(p) for p in PRESETS)}")
    g.add_argument("--acks", choices=ACKS)
    g.add_argument("--codec", choices=CODECS, help="compression.type")
    g.add_argument("--level", type=int, help="compression.level (-1 = codec default)")
    g.add_argument("--linger-ms", type=float)
    g.add_argument("--batch-size", type=int, help="batch.size in bytes")
    g.add_argument("--idempotence", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--max-in-flight", type=int)
    g.add_argument("--buffer-kbytes", type=int, help="queue.buffering.max.kbytes")
    g.add_argument("--delivery-timeout-ms", type=int, help="message.timeout.ms")
    g.add_argument("--message-size", type=int, help="value size in bytes")
    g.add_argument("--payload", choices=PAYLOADS)
    g.add_argument("--keys", type=int, help="distinct keys (0 = no keys)")
    g.add_argument("--partitions", type=int)
    g.add_argument("--replication-factor", type=int)
    g.add_argument("--count", type=int, help="messages per run (instead of --duration)")
    g.add_argument("--duration", type=float,
                   help=f"seconds per run (default {FIRST_RUN_DURATION_S:g} when --count is not given)")
    g.add_argument("--rate", type=float, help="target messages/s (latency also from intended send time)")
    g.add_argument("--end-to-end", action="store_true", help="also consume and report send->consume latency")
    runner.time_limit_flag(knobs)
    return knobs


def sweep_parent() -> argparse.ArgumentParser:
    sweep = argparse.ArgumentParser(add_help=False)
    g = sweep.add_argument_group("sweep settings")
    g.add_argument("--repeats", type=int, default=1,
                   help="run each cell N times, the order reversed every other round; report medians and spread")
    g.add_argument("--fixed-rate", type=float, help="msg/s of the latency runs (default: half the slowest maximum)")
    g.add_argument("--no-fixed-rate", action="store_true", help="only the maximum-throughput runs")
    return sweep


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    knobs = knobs_parent()
    sweep = sweep_parent()
    group = sub.add_parser("producer", help="producer experiments: run, compression, batch, acks, presets, perf-test")
    b = group.add_subparsers(dest="verb", required=True)
    b.add_parser("run", parents=[common, knobs], help="one produce run: throughput, latency, librdkafka stats")
    c = b.add_parser("compression", parents=[common, knobs, sweep], help="the five codecs side by side")
    c.add_argument("--codecs", help="comma-separated subset, e.g. none,gzip,lz4")
    bt = b.add_parser("batch", parents=[common, knobs, sweep], help="linger.ms x batch.size matrix")
    bt.add_argument("--lingers", help="comma-separated linger.ms values (default 0,1,5,10,50)")
    bt.add_argument("--sizes", help="comma-separated batch.size values (default 1024,...,262144)")
    b.add_parser("acks", parents=[common, knobs, sweep], help="acks 0, 1 and all side by side")
    b.add_parser("presets", parents=[common, knobs, sweep], help="the seeds' four producer presets side by side")
    pt = b.add_parser("perf-test", parents=[common, knobs],
                      help="Kafka's own ProducerPerformance next to the lab's run, with ratios")
    pt.add_argument("--perf-only", action="store_true", help="run only Kafka's perf tool")
    b.add_parser("cleanup", parents=[common], help="delete topics that produce runs left behind (lab-produce-*)")
    return {
        ("producer", "run"): cmd_produce,
        ("producer", "compression"): sweep_handler("codec"),
        ("producer", "batch"): sweep_handler("batch"),
        ("producer", "acks"): sweep_handler("acks"),
        ("producer", "presets"): sweep_handler("presets"),
        ("producer", "perf-test"): cmd_perf_test,
        ("producer", "cleanup"): cmd_cleanup,
    }
