#!/usr/bin/env bash
# The lab's front door.
#   ./lab.sh start        start the 3-broker cluster, create the lab's topics, open the app (127.0.0.1)
#   ./lab.sh start --class  the same, served to the local network, with a class opened (prints the teacher key)
#   ./lab.sh test [ARGS]  run the test suite (uv run pytest ARGS); it starts its own cluster
#   ./lab.sh ARGS         any `kafka-lab` command, e.g. ./lab.sh cluster status
# Needs only Python >= 3.11 and Java 17 (+ Maven once, to fetch Kafka's jars); installs uv if missing.
set -euo pipefail
cd "$(dirname "$0")"

if command -v uv >/dev/null 2>&1; then
  UV=(uv)
else
  if ! python3 -m uv --version >/dev/null 2>&1; then
    echo "Installing uv (the Python package manager) for this user..." >&2
    python3 -m pip install --user --quiet uv 2>/dev/null \
      || python3 -m pip install --user --quiet --break-system-packages uv
  fi
  UV=(python3 -m uv)
fi
"${UV[@]}" sync --quiet

case "${1:-start}" in
  start)
    shift || true
    ADDRESS=127.0.0.1
    if [ "${1:-}" = "--class" ]; then
      # A class: the app is served to the local network (all interfaces), and a class is opened on it.
      shift
      ADDRESS=0.0.0.0
      HOST_IP=$(hostname -I 2>/dev/null | awk '{print $1}')
      export KAFKA_LAB_CLASS_URL="http://${HOST_IP:-this-machine}:8501"
    fi
    "${UV[@]}" run kafka-lab cluster up
    "${UV[@]}" run kafka-lab topics create
    if [ "$ADDRESS" = 0.0.0.0 ]; then
      echo "Serving the lab to the local network on port 8501 (all interfaces, not only this machine)." >&2
      "${UV[@]}" run kafka-lab class status | grep -q "^No class" && "${UV[@]}" run kafka-lab class start \
        || "${UV[@]}" run kafka-lab class status
    fi
    # On a desktop, open the app in the default browser once the server answers (bounded: 60 s).
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" = Darwin ]; then
      "${UV[@]}" run python -m lab.open_browser http://localhost:8501 &
    fi
    exec "${UV[@]}" run streamlit run streamlit_app.py --server.address "$ADDRESS" "$@"
    ;;
  test)
    shift
    # Browser tests drive Debian's Chromium; install it when we can (root + apt), else they say how.
    if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing chromium for the browser tests..." >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
        || echo "Could not install chromium; browser tests will report it." >&2
    fi
    exec "${UV[@]}" run pytest "$@"
    ;;
  *)
    exec "${UV[@]}" run kafka-lab "$@"
    ;;
esac
