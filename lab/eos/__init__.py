"""The exactly-once lab (course phase 3): duplicates provoked by a real fault and counted, idempotence
that prevents them, transactions and the last stable offset, fencing, and a consume-transform-produce
pipeline that survives a crash.

- ``sequence``: numbered records and the pure counting of duplicates, gaps and order violations
- ``eosstats``: the producer id, epoch and request timeouts from librdkafka's statistics
- ``logs``: HW and LSO per partition, and reading a topic back under either isolation level
- ``duplicates``: the duplicate scenario (``idempotent``)
- ``transactions``: begin/commit/abort, read_committed vs read_uncommitted, HW vs LSO (``transactional``)
- ``fencing``: two producers with one ``transactional.id`` (``fencing``)
- ``pipeline``: the consume-transform-produce process (``python -m lab.eos.pipeline``)
- ``pipeline_run``: its crash scenario (``pipeline_scenario``)
"""
