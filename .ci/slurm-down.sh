#!/usr/bin/env bash
# Stop the daemons started by slurm-up.sh, by their pid files, in reverse order.
R=${SLURM_CI_ROOT:-/tmp/slurm-ci}
stop() {  # stop PIDFILE: TERM the pid, wait up to 15 s
  [ -s "$1" ] || return 0
  local p; p=$(cat "$1")
  kill "$p" 2>/dev/null || return 0
  for i in $(seq 30); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.5; done
  echo "pid $p ($1) did not exit" >&2
}
stop "$R/run/slurmd.pid"
stop "$R/run/slurmctld.pid"
stop "$R/run/slurmdbd.pid"
stop /run/mysqld/mysqld.pid
stop /run/munge/munged.pid
