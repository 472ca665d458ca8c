"""Message values for producer experiments: compressible text, JSON-like events, or random bytes.

A run cycles through a small pool of distinct values, built once before the clock starts; Kafka's perf
tool gets the same pool as its ``--payload-file`` (one value per line). Building costs time proportional
to the pool's bytes: one stream of text is generated and cut into values (never re-measured per word),
and the pool shrinks for large values so it never holds more than ``POOL_BYTES``.
"""

from __future__ import annotations

import json
import random

#: Most distinct payloads cycled through; enough that compression sees realistic variety. A power of two
#: so the index is a mask (``len(pool) - 1``).
PAYLOAD_POOL = 256
#: Bytes the pool may hold in all: 256 values of 100 B are 25 KB, but 256 of 1 MB would be 256 MB and
#: seconds of building; large values get a smaller pool (still a power of two, at least one value).
POOL_BYTES = 8 * 1024 * 1024

_WORDS = tuple(" ".join((
    "kafka broker partition replica leader follower offset segment batch linger acks producer consumer",
    "topic record latency throughput compression snappy zstd gzip lz4 the a of to and in is on for with",
    "event user order payment click view cart",
)).split(" "))
_WORDS_B = tuple(w.encode() for w in _WORDS)
_AVG_WORD = sum(map(len, _WORDS_B)) / len(_WORDS_B) + 1  # with its separating space


def pool_size(size: int, n: int = PAYLOAD_POOL) -> int:
    """How many distinct values of ``size`` bytes the pool holds: ``n`` or fewer, a power of two."""
    fit = max(1, min(n, POOL_BYTES // max(1, size)))
    return 1 << (fit.bit_length() - 1)


def _text_stream(rnd: random.Random, nbytes: int) -> bytes:
    words = rnd.choices(_WORDS_B, k=int(nbytes / _AVG_WORD * 1.1) + 16)
    out = b" ".join(words)
    while len(out) < nbytes:  # rare: the draw was short of the estimate
        out += b" " + b" ".join(rnd.choices(_WORDS_B, k=int((nbytes - len(out)) / _AVG_WORD) + 16))
    return out


def _json_stream(rnd: random.Random, nbytes: int, first_id: int) -> bytes:
    parts: list[str] = []
    total, j = 0, 0
    while total <= nbytes:
        part = json.dumps({"event_id": first_id + j, "user": f"user-{rnd.randrange(5000)}",
                           "action": rnd.choice(("view", "click", "cart", "order", "pay")),
                           "amount": round(rnd.uniform(1, 500), 2), "ts": 1_764_000_000_000 + rnd.randrange(10**7)})
        parts.append(part)
        total += len(part) + 1
        j += 1
    return " ".join(parts).encode()


def make_payloads(kind: str, size: int, n: int = PAYLOAD_POOL, seed: int = 42) -> list[bytes]:
    """``pool_size(size, n)`` distinct values of exactly ``size`` bytes: "text", "json" or "random" (never a
    newline in text and JSON, so the perf tool's payload file splits them back)."""
    rnd = random.Random(seed)
    count = pool_size(size, n)
    if kind == "random":
        return [rnd.randbytes(size) for _ in range(count)]
    out = []
    for i in range(count):
        stream = _json_stream(rnd, size, i * 1000) if kind == "json" else _text_stream(rnd, size)
        out.append(stream[:size].ljust(size, b" "))
    return out


__all__ = ["PAYLOAD_POOL", "POOL_BYTES", "make_payloads", "pool_size"]
