"""Running Kafka's own command-line tools (perf tests) from the provisioned runtime: the JVM's heap, how
long it gets to stop, how often the wait looks, the quiet log4j configuration.
"""

from __future__ import annotations

import re

#: The perf tool is a small client: a modest heap keeps it from crowding the brokers on a small machine.
PERF_HEAP = "-Xmx512m"
#: How long the JVM gets to exit after a cancel (SIGTERM) before it is killed.
STOP_GRACE_S = 5.0
#: How often the wait for the tool looks whether it has exited (a cancel wakes it at once).
TOOL_POLL_S = 0.1
#: Kafka versions the provisioner can fetch are written like this (major.minor.patch).
KAFKA_VERSION_RE = re.compile(r"\d+\.\d+\.\d+")
LOG4J_QUIET = "log4j.rootLogger=ERROR, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\n" \
              "log4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n" \
              "log4j.appender.stderr.layout.ConversionPattern=%p %m%n\n"
