#!/usr/bin/env bash
# A Spark standalone cluster on this machine, for `newstrace analyze --engine spark`: starts a master and one
# worker from the Spark that pyspark ships (sbin/spark-daemon.sh with the Master and Worker classes), runs a command against it,
# and stops both when the command ends (or fails, or is interrupted).
#
#   scripts/spark-cluster.sh run  [newstrace analyze arguments...]   # analyze --engine spark on the cluster
#   scripts/spark-cluster.sh exec COMMAND [ARGS...]                  # any command; $SPARK_MASTER_URL is set
#   scripts/spark-cluster.sh start | stop | status                   # leave it running between commands
#
# Settings (environment): NT_SPARK_WORK (work dir: logs, pids, shuffle files; default /tmp/newstrace-spark),
# NT_SPARK_HOST (127.0.0.1), NT_SPARK_PORT (7077), NT_SPARK_WEBUI_PORT (8080), NT_SPARK_WORKER_PORT (7078),
# NT_SPARK_WORKER_WEBUI_PORT (8081), NT_SPARK_CORES (2), NT_SPARK_WORKER_MEMORY (12g), NT_SPARK_EXECUTOR_MEMORY
# (8g), NT_SPARK_DRIVER_MEMORY (4g), PYTHON (the interpreter with newstrace and pyspark; default .venv/bin/python).
# The work dir's disk must hold the shuffle files: some GB for a million articles.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
PYTHON=$(command -v "$PYTHON" 2>/dev/null || echo "$PYTHON")
[ -x "$PYTHON" ] || { echo "no Python at $PYTHON: run make .venv/.installed and pip install -e '.[spark]'" >&2; exit 2; }
PYTHON=$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")
command -v java >/dev/null 2>&1 || [ -n "${JAVA_HOME:-}" ] || { echo "Spark needs Java (17): none found" >&2; exit 2; }

SPARK_HOME=$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))') || {
  echo "pyspark is not installed for $PYTHON: pip install -e '.[spark]'" >&2; exit 2; }
export SPARK_HOME
WORK=${NT_SPARK_WORK:-/tmp/newstrace-spark}
HOST=${NT_SPARK_HOST:-127.0.0.1}
PORT=${NT_SPARK_PORT:-7077}
CORES=${NT_SPARK_CORES:-2}
EXECUTOR_MEMORY=${NT_SPARK_EXECUTOR_MEMORY:-8g}
DRIVER_MEMORY=${NT_SPARK_DRIVER_MEMORY:-4g}
export SPARK_MASTER_HOST=$HOST SPARK_MASTER_PORT=$PORT SPARK_LOCAL_IP=$HOST
export SPARK_MASTER_WEBUI_PORT=${NT_SPARK_WEBUI_PORT:-8080}
export SPARK_WORKER_PORT=${NT_SPARK_WORKER_PORT:-7078} SPARK_WORKER_WEBUI_PORT=${NT_SPARK_WORKER_WEBUI_PORT:-8081}
export SPARK_WORKER_CORES=$CORES SPARK_WORKER_MEMORY=${NT_SPARK_WORKER_MEMORY:-12g}
export SPARK_WORKER_DIR=$WORK/worker SPARK_LOCAL_DIRS=$WORK/local SPARK_LOG_DIR=$WORK/logs SPARK_PID_DIR=$WORK/pids
# the executors' Python workers: the same interpreter, so they import newstrace
export PYSPARK_PYTHON=$PYTHON PYSPARK_DRIVER_PYTHON=$PYTHON
export SPARK_MASTER_URL=spark://$HOST:$PORT

# pyspark's wheel ships sbin/spark-daemon.sh but not the start-master.sh / start-worker.sh wrappers of a Spark
# download; those only call spark-daemon.sh with these classes and arguments
MASTER_CLASS=org.apache.spark.deploy.master.Master
WORKER_CLASS=org.apache.spark.deploy.worker.Worker

start() {
  mkdir -p "$SPARK_WORKER_DIR" "$SPARK_LOCAL_DIRS" "$SPARK_LOG_DIR" "$SPARK_PID_DIR"
  "$SPARK_HOME/sbin/spark-daemon.sh" start $MASTER_CLASS 1 --host "$HOST" --port "$PORT" \
    --webui-port "$SPARK_MASTER_WEBUI_PORT" >/dev/null
  "$SPARK_HOME/sbin/spark-daemon.sh" start $WORKER_CLASS 1 --host "$HOST" --port "$SPARK_WORKER_PORT" \
    --webui-port "$SPARK_WORKER_WEBUI_PORT" --cores "$CORES" --memory "$SPARK_WORKER_MEMORY" \
    --work-dir "$SPARK_WORKER_DIR" "$SPARK_MASTER_URL" >/dev/null
  # the worker registers within seconds; wait for it, so the first job has somewhere to run
  for _ in $(seq 60); do
    if grep -qs "Successfully registered with master" "$SPARK_LOG_DIR"/*Worker*.out; then
      echo "Spark master $SPARK_MASTER_URL, one worker ($CORES cores, $SPARK_WORKER_MEMORY); logs in $SPARK_LOG_DIR" >&2
      return 0
    fi
    sleep 1
  done
  echo "the Spark worker did not register with $SPARK_MASTER_URL; see $SPARK_LOG_DIR" >&2
  stop
  return 1
}

stop() {
  "$SPARK_HOME/sbin/spark-daemon.sh" stop $WORKER_CLASS 1 >/dev/null 2>&1 || true
  "$SPARK_HOME/sbin/spark-daemon.sh" stop $MASTER_CLASS 1 >/dev/null 2>&1 || true
}

# the settings a job on this cluster needs: executor size, shuffle files in the work dir
conf_args() {
  local executor_cores=$CORES
  printf '%s\n' --spark-conf "spark.executor.memory=$EXECUTOR_MEMORY" \
    --spark-conf "spark.executor.cores=$executor_cores" --spark-conf "spark.cores.max=$CORES" \
    --spark-conf "spark.driver.memory=$DRIVER_MEMORY" --spark-conf "spark.driver.maxResultSize=2g" \
    --spark-conf "spark.local.dir=$SPARK_LOCAL_DIRS" --spark-conf "spark.driver.host=$HOST" \
    --spark-conf "spark.network.timeout=600s" --spark-conf "spark.executor.heartbeatInterval=60s"
  # (long timeouts: on a busy machine a garbage-collecting executor misses the default 120 s and is declared lost)
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    ls "$SPARK_PID_DIR"/*.pid >/dev/null 2>&1 && cat "$SPARK_PID_DIR"/*.pid && echo "$SPARK_MASTER_URL" || echo "not running"
    ;;
  run | exec)
    mode=$1
    shift
    start
    trap stop EXIT INT TERM
    if [ "$mode" = run ]; then
      mapfile -t extra < <(conf_args)
      "$(dirname "$PYTHON")/newstrace" analyze "$@" --engine spark --spark-master "$SPARK_MASTER_URL" "${extra[@]}"
    else
      NT_SPARK_CONF=$(conf_args | paste -sd' ') "$@"
    fi
    ;;
  *)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
