"""Get a runnable Apache Kafka: its jars from Maven Central (cached), or an unpacked ``KAFKA_HOME``.

There is no Docker engine to lean on, so the lab resolves Kafka's runtime classpath with Maven once,
keeps it in a user cache directory, and from then on starts brokers offline. ``KAFKA_HOME`` pointing at
an official distribution (``bin/``, ``libs/``) is used instead when set.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lab.core.errors import ProvisionError

#: The newest Kafka release whose jars Maven Central serves (checked December 2026): the course teaches
#: today's Kafka (ELR, the KIP-848 consumer protocol). 3.9.2, the last 3.x, stays a named comparison.
DEFAULT_KAFKA_VERSION = "4.4.0"
#: The last 3.x release (ZooKeeper-era line, KRaft here): what `--version 3.9.2` compares against.
LEGACY_KAFKA_VERSION = "3.9.2"
#: Jolokia exposes the brokers' JMX MBeans (e.g. per-replica log end offsets) over local HTTP.
JOLOKIA_VERSION = "2.2.9"
#: Logging bindings: Kafka 3.x logs through reload4j, 4.x through log4j2.
SLF4J_RELOAD4J = "org.slf4j:slf4j-reload4j:1.7.36"
LOG4J2_VERSION = "2.24.3"
#: Bound on one Maven resolution: a cold download of ~60 MB on a slow mirror, not forever.
MAVEN_TIMEOUT_S = 600
#: Extra Maven arguments, e.g. ``-s mirror-settings.xml`` or ``-Dmaven.repo.local=/tmp/m2`` (a corporate
#: mirror, a fresh local repository for a truly cold start, or an unreachable one for the tests).
MAVEN_ARGS_ENV = "KAFKA_LAB_MAVEN_ARGS"
#: Maven output that means "the repository could not be reached" (a missing plugin too: it is downloaded
#: on first use, so on a machine that never reached Central it is the first thing to fail).
MAVEN_NETWORK_ERRORS = re.compile(
    r"UnknownHost|Could not transfer|Connection refused|Network is unreachable|timed out|"
    r"No plugin found for prefix|Temporary failure in name resolution|Connect to \S+ failed"
)
#: Maven's generic advice lines, dropped from the message so the real error shows.
MAVEN_BOILERPLATE = re.compile(
    r"^\[ERROR\] *(\[Help \d+\].*)?$|full stack trace|Re-run Maven|For more information"
)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
#: Oldest Java that runs Kafka brokers (3.9 runs on 11+, 4.x needs 17).
MIN_JAVA = {3: 11, 4: 17}


@dataclass(frozen=True)
class KafkaRuntime:
    """Everything needed to launch Kafka JVMs of one version."""

    version: str
    java: str
    libs_dir: Path
    jolokia_agent: Path | None
    #: "distribution" (KAFKA_HOME) or "maven" (resolved jars in the cache)
    source: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    @property
    def classpath(self) -> str:
        return str(self.libs_dir / "*")

    @property
    def uses_log4j2(self) -> bool:
        return self.major >= 4


def cache_root() -> Path:
    """User cache for downloaded jars: ``$KAFKA_LAB_CACHE`` or ``$XDG_CACHE_HOME/kafka-lab``."""
    env = os.environ.get("KAFKA_LAB_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kafka-lab"


def find_java() -> tuple[str, int]:
    """Return (java executable, major version) or raise ``ProvisionError`` saying how to install it."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ProvisionError(
            "Java was not found (no `java` on PATH and no usable JAVA_HOME).",
            hint="Install a JDK or JRE 17, e.g. `apt-get install openjdk-17-jre-headless`, then retry.",
        )
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProvisionError(f"`{java} -version` failed: {exc}", hint="Check the Java installation.") from exc
    return java, parse_java_major(out.stderr + out.stdout)


def parse_java_major(version_text: str) -> int:
    """Major version from ``java -version`` output ('1.8.0_392' -> 8, '17.0.15' -> 17)."""
    m = re.search(r'version "(\d+)(?:\.(\d+))?', version_text)
    if not m:
        raise ProvisionError(
            f"Could not read the Java version from: {version_text.strip()[:200]!r}",
            hint="Make sure `java -version` works.",
        )
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def check_version(version: str) -> None:
    if not re.fullmatch(r"[34]\.\d+\.\d+", version):
        raise ProvisionError(
            f"Kafka version {version!r} is not supported.",
            hint=f"Use a 3.x or 4.x release number such as {DEFAULT_KAFKA_VERSION} or {LEGACY_KAFKA_VERSION}.",
        )


def runtime_pom(version: str) -> str:
    """A throwaway POM whose runtime dependencies are exactly a Kafka broker + its tools."""
    major = int(version.split(".")[0])
    if major >= 4:
        logging = [
            f"org.apache.logging.log4j:log4j-slf4j-impl:{LOG4J2_VERSION}",
            f"org.apache.logging.log4j:log4j-core:{LOG4J2_VERSION}",
        ]
    else:
        logging = [SLF4J_RELOAD4J]
    deps = [
        f"org.apache.kafka:kafka_2.13:{version}",
        # ProducerPerformance (kafka-producer-perf-test) and friends live here
        f"org.apache.kafka:kafka-tools:{version}",
        *logging,
    ]
    xml = "\n".join(
        "    <dependency><groupId>{}</groupId><artifactId>{}</artifactId><version>{}</version></dependency>".format(
            *d.split(":")
        )
        for d in deps
    )
    return f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kafka-lab</groupId><artifactId>kafka-runtime</artifactId><version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{xml}
  </dependencies>
</project>
"""


def _run_maven(args: list[str], cwd: Path, what: str) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise ProvisionError(
            f"Maven is needed once to download {what}, but `mvn` is not on PATH.",
            hint="Install it (`apt-get install maven`), or set KAFKA_HOME to an unpacked Kafka distribution.",
        )
    cmd = [mvn, "-B", "-q", "-Dstyle.color=never", *shlex.split(os.environ.get(MAVEN_ARGS_ENV, "")), *args]
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=MAVEN_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ProvisionError(
            f"Maven did not finish downloading {what} within {MAVEN_TIMEOUT_S} s.",
            hint="Check the connection to Maven Central, or set KAFKA_HOME to an unpacked Kafka distribution.",
        ) from exc
    if proc.returncode != 0:
        out = ANSI_ESCAPE.sub("", proc.stdout + proc.stderr).strip()
        errors = [re.sub(r"\s*-> \[Help \d+\]$", "", ln) for ln in out.splitlines()
                  if ln.startswith("[ERROR]") and not MAVEN_BOILERPLATE.search(ln)]
        detail = "\n".join((errors or out.splitlines())[-6:])
        if MAVEN_NETWORK_ERRORS.search(out):
            hint = (
                "Maven Central could not be reached. Connect to the internet (or a Maven mirror) once; "
                "afterwards the jars are reused offline. Or set KAFKA_HOME to an unpacked Kafka distribution."
            )
        elif "Could not find artifact" in out or "could not be resolved" in out:
            hint = f"The artifacts for {what} are not on Maven Central: check the version number."
        else:
            hint = "See Maven's errors above; or set KAFKA_HOME to an unpacked Kafka distribution."
        raise ProvisionError(f"Maven failed to download {what}:\n{detail}", hint=hint)


def ensure_runtime(version: str = DEFAULT_KAFKA_VERSION, *, with_jolokia: bool = True) -> KafkaRuntime:
    """Return a runnable Kafka of ``version``, downloading its jars once if needed.

    Uses ``KAFKA_HOME`` when set. Otherwise jars live in ``cache_root()/kafka-<version>/libs`` and a
    ``.complete`` marker makes later calls offline and instant.
    """
    java, java_major = find_java()
    home = os.environ.get("KAFKA_HOME")
    if home:
        libs = Path(home).expanduser() / "libs"
        jars = sorted(libs.glob("kafka_2.1*-*.jar")) if libs.is_dir() else []
        jars = [j for j in jars if not re.search(r"-(test|sources|javadoc)", j.name)]
        if not jars:
            raise ProvisionError(
                f"KAFKA_HOME={home} does not look like a Kafka distribution (no libs/kafka_2.13-*.jar).",
                hint="Point KAFKA_HOME at an unpacked kafka_2.13-<version> folder, or unset it.",
            )
        m = re.search(r"kafka_2\.1\d-(\d+\.\d+\.\d+)", jars[0].name)
        version = m.group(1) if m else version
    else:
        check_version(version)
    major = int(version.split(".")[0])
    if java_major < MIN_JAVA.get(major, 17):
        raise ProvisionError(
            f"Kafka {version} needs Java {MIN_JAVA.get(major, 17)} or newer; found Java {java_major}.",
            hint="Install Java 17 (`apt-get install openjdk-17-jre-headless`) and put it first on PATH.",
        )

    root = cache_root()
    jolokia = _ensure_jolokia(root) if with_jolokia else None
    if home:
        return KafkaRuntime(version, java, Path(home).expanduser() / "libs", jolokia, "distribution")

    target = root / f"kafka-{version}"
    libs = target / "libs"
    marker = target / ".complete"
    if not marker.exists():
        with _only_one_download(target):
            if not marker.exists():  # another process may have finished it while this one waited
                _download_kafka(version, target, libs, marker)
    return KafkaRuntime(version, java, libs, jolokia, "maven")


@contextlib.contextmanager
def _only_one_download(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``target`` (a cache folder): the app, a CLI and parallel test workers
    starting at once on a fresh machine download into it one after another, never into each other's files."""
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".download.lock").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _download_kafka(version: str, target: Path, libs: Path, marker: Path) -> None:
    """Kafka's runtime jars from Maven Central into ``libs``, whole or not at all (``marker`` says whole)."""
    (target / "pom.xml").write_text(runtime_pom(version))
    tmp = target / "libs.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    _run_maven(["dependency:copy-dependencies", f"-DoutputDirectory={tmp}", "-DincludeScope=runtime"], target,
               f"Apache Kafka {version}")
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    marker.write_text(version)


def jolokia_agent_path(root: Path | None = None) -> Path:
    """Where the Jolokia JVM agent jar is (or will be) kept in the user cache."""
    return (root or cache_root()) / f"jolokia-{JOLOKIA_VERSION}" / f"jolokia-agent-jvm-{JOLOKIA_VERSION}-javaagent.jar"


def ensure_jolokia_agent() -> Path | None:
    """The Jolokia JVM agent jar in the user cache (downloaded once), or None when it cannot be had.

    The compose backend mounts this same jar into its containers.
    """
    return _ensure_jolokia(cache_root())


def _ensure_jolokia(root: Path) -> Path | None:
    """The Jolokia JVM agent jar, downloaded once; None (not an error) when it cannot be had."""
    jar = jolokia_agent_path(root)
    target = jar.parent
    if jar.exists():
        return jar
    try:
        with _only_one_download(target):
            if jar.exists():
                return jar
            _run_maven(["dependency:copy", f"-Dartifact=org.jolokia:jolokia-agent-jvm:{JOLOKIA_VERSION}:jar:javaagent",
                        f"-DoutputDirectory={target}"], target, "the Jolokia JMX agent")
    except ProvisionError:
        return None
    return jar if jar.exists() else None
