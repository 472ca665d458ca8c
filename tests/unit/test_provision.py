"""Getting a runnable Kafka: Java and Maven checks, and the messages when they are missing or broken.

These run the real code paths with a real environment (a PATH without java or mvn, Maven pointed at a
mirror where nothing listens); nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from lab.cluster.provision import (
    DEFAULT_KAFKA_VERSION,
    MAVEN_ARGS_ENV,
    check_version,
    ensure_runtime,
    find_java,
    parse_java_major,
    runtime_pom,
)
from lab.core.errors import LabError, ProvisionError

#: A discard-port mirror: connecting to 127.0.0.1:9 is refused at once, so "unreachable" is fast.
UNREACHABLE_MIRROR = "http://127.0.0.1:9/"
POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
COORDINATES = ("groupId", "artifactId", "version")


@pytest.fixture
def no_kafka_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty lab cache and no KAFKA_HOME: provisioning has to download."""
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("KAFKA_LAB_CACHE", str(cache))
    return cache


def bin_dir_with(tmp_path: Path, *tools: str) -> Path:
    """A directory holding links to just the named tools, to use as the whole PATH."""
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    for tool in tools:
        found = shutil.which(tool)
        assert found, f"{tool} is needed on this machine for this test"
        (d / tool).symlink_to(os.path.realpath(found))
    return d


def assert_one_clear_message(err: LabError, *needles: str) -> None:
    text = str(err)
    assert err.hint, "every fault says what to do"
    assert "Traceback" not in text
    for needle in needles:
        assert needle in text, f"{needle!r} missing from: {text}"


# --- Java ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6)', 17),
        ('java version "1.8.0_392"\nJava(TM) SE Runtime Environment (build 1.8.0_392-b08)', 8),
        ('openjdk version "11.0.22" 2024-01-16', 11),
        ('openjdk version "21" 2023-09-19', 21),
        ('openjdk version "25-ea" 2025-09-16', 25),
        ('java version "1.7.0_80"', 7),
    ],
)
def test_parse_java_major(output: str, major: int) -> None:
    assert parse_java_major(output) == major


def test_unreadable_java_version_is_a_clear_error() -> None:
    with pytest.raises(ProvisionError) as err:
        parse_java_major("Error: could not open `/usr/lib/jvm/lib/jvm.cfg'")
    assert_one_clear_message(err.value, "Could not read the Java version", "java -version")


def test_no_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_kafka_home: Path) -> None:
    monkeypatch.setenv("PATH", str(bin_dir_with(tmp_path)))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ProvisionError) as err:
        ensure_runtime(DEFAULT_KAFKA_VERSION)
    assert_one_clear_message(err.value, "Java was not found", "Install a JDK")


def test_java_home_without_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "not-a-jdk"))
    with pytest.raises(ProvisionError) as err:
        find_java()
    assert_one_clear_message(err.value, "JAVA_HOME")


def test_java_too_old(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_kafka_home: Path) -> None:
    """A JAVA_HOME whose `java -version` answers like Java 8 (the check reads exactly that output)."""
    jdk8 = tmp_path / "jdk8"
    (jdk8 / "bin").mkdir(parents=True)
    java = jdk8 / "bin" / "java"
    java.write_text('#!/bin/sh\necho \'openjdk version "1.8.0_392"\' >&2\n')
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(jdk8))
    with pytest.raises(ProvisionError) as err:
        ensure_runtime("3.9.2")
    assert_one_clear_message(err.value, "needs Java 11 or newer; found Java 8", "Install Java 17")
    with pytest.raises(ProvisionError, match=f"Kafka {DEFAULT_KAFKA_VERSION} needs Java 17 or newer; found Java 8"):
        ensure_runtime(DEFAULT_KAFKA_VERSION)


# --- versions and KAFKA_HOME --------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["3.9", "latest", "2.8.2", "5.0.0", "3.9.2-rc1", ""])
def test_unsupported_version_string(version: str) -> None:
    with pytest.raises(ProvisionError) as err:
        check_version(version)
    assert_one_clear_message(err.value, "is not supported", DEFAULT_KAFKA_VERSION)


def test_kafka_home_that_is_not_a_distribution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAFKA_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKA_LAB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ProvisionError) as err:
        ensure_runtime(with_jolokia=False)
    assert_one_clear_message(err.value, f"KAFKA_HOME={tmp_path}", "unset it")


# --- Maven --------------------------------------------------------------------------------------------
def test_no_maven(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_kafka_home: Path) -> None:
    monkeypatch.setenv("PATH", str(bin_dir_with(tmp_path, "java")))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ProvisionError) as err:
        ensure_runtime(DEFAULT_KAFKA_VERSION)
    assert_one_clear_message(err.value, "`mvn` is not on PATH", "apt-get install maven", "KAFKA_HOME")
    assert not (no_kafka_home / f"kafka-{DEFAULT_KAFKA_VERSION}" / ".complete").exists()


def test_maven_central_unreachable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                   no_kafka_home: Path) -> None:
    """Real Maven, an empty local repository and a mirror where nothing listens."""
    settings = tmp_path / "settings.xml"
    settings.write_text(f"""<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <localRepository>{tmp_path / "m2"}</localRepository>
  <mirrors><mirror><id>nowhere</id><mirrorOf>*</mirrorOf><url>{UNREACHABLE_MIRROR}</url></mirror></mirrors>
</settings>
""")
    monkeypatch.setenv(MAVEN_ARGS_ENV, f"-s {settings}")
    t0 = time.monotonic()
    with pytest.raises(ProvisionError) as err:
        ensure_runtime(DEFAULT_KAFKA_VERSION, with_jolokia=False)  # Jolokia's own failure is swallowed
    assert time.monotonic() - t0 < 120, "an unreachable repository must fail, not hang"
    assert_one_clear_message(err.value, "Maven failed to download Apache Kafka",
                             "Maven Central could not be reached", "KAFKA_HOME")
    text = str(err.value)
    assert "[Help 1]" not in text and "full stack trace" not in text, "Maven's boilerplate is dropped"
    assert "\x1b[" not in text, "no terminal colour codes"
    assert not (no_kafka_home / f"kafka-{DEFAULT_KAFKA_VERSION}" / ".complete").exists()


# --- the runtime POM ----------------------------------------------------------------------------------
def pom_dependencies(version: str) -> list[str]:
    root = ElementTree.fromstring(runtime_pom(version))
    return [
        ":".join(d.findtext(f"m:{tag}", namespaces=POM_NS) or "" for tag in COORDINATES)
        for d in root.iterfind("m:dependencies/m:dependency", POM_NS)
    ]


def test_runtime_pom_for_kafka_3_uses_reload4j() -> None:
    deps = pom_dependencies("3.9.2")
    assert "org.apache.kafka:kafka_2.13:3.9.2" in deps and "org.apache.kafka:kafka-tools:3.9.2" in deps
    assert any(d.startswith("org.slf4j:slf4j-reload4j:") for d in deps)
    assert not any("log4j-core" in d for d in deps)


def test_runtime_pom_for_kafka_4_uses_log4j2() -> None:
    deps = pom_dependencies("4.1.1")
    assert "org.apache.kafka:kafka_2.13:4.1.1" in deps and "org.apache.kafka:kafka-tools:4.1.1" in deps
    groups = {d.rsplit(":", 1)[0] for d in deps}
    assert {"org.apache.logging.log4j:log4j-core", "org.apache.logging.log4j:log4j-slf4j-impl"} <= groups
    assert not any("reload4j" in d for d in deps), "Kafka 4 dropped log4j 1.x"
    root = ElementTree.fromstring(runtime_pom("4.1.1"))
    assert root.findtext("m:packaging", namespaces=POM_NS) == "pom"
