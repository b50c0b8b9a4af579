#!/usr/bin/env bash
# Bring up a real single-node SLURM cluster on a fresh Debian 12 machine (root, no systemd needed).
# The project's copy of ../shared/recipes/slurm-single-node-up.sh; sacct also keeps job comments
# (the Snakemake SLURM plugin writes the rule name there), so tests can map jobs to rules.
#   SLURM_ACCOUNTING=1  slurmdbd + MariaDB, so `sacct` works (the slurm executor plugin's default)
#   SLURM_ACCOUNTING=0  no slurmdbd; Snakemake must then run with --slurm-status-command squeue
#   FAKE_GPUS=N         advertise N fake GPUs (gres/gpu) so GPU-requesting rules can be scheduled (max 4)
set -euo pipefail

SLURM_ACCOUNTING=${SLURM_ACCOUNTING:-1}
FAKE_GPUS=${FAKE_GPUS:-2}
R=${SLURM_CI_ROOT:-/tmp/slurm-ci}          # state, spool, logs, pid files
CLUSTER=ci
PARTITION=${SLURM_PARTITION:-debug}
H=$(hostname -s)

export DEBIAN_FRONTEND=noninteractive
pkgs="munge slurmctld slurmd slurm-client"
[ "$SLURM_ACCOUNTING" = 1 ] && pkgs="$pkgs slurmdbd mariadb-server"
if ! dpkg -s $pkgs >/dev/null 2>&1; then   # postinst cannot start services (no systemd); we start them below
  apt-get update -q
  apt-get install -y -q --no-install-recommends $pkgs
fi

mkdir -p "$R"/{ctld,spool,log,run}
chown slurm:slurm "$R"/ctld "$R"/log "$R"/run   # slurmctld/slurmdbd drop to user slurm

# --- munge -------------------------------------------------------------------
[ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
if ! munge -n >/dev/null 2>&1; then               # on a systemd host the package may already have started it
  install -d -o munge -g munge -m 755 /run/munge
  runuser -u munge -- /usr/sbin/munged          # forks; pid in /run/munge/munged.pid
fi
munge -n | unmunge >/dev/null

# --- MariaDB + slurmdbd (optional) -------------------------------------------
if [ "$SLURM_ACCOUNTING" = 1 ]; then
  if ! mariadb -e 'select 1' >/dev/null 2>&1; then
    install -d -o mysql -g mysql /run/mysqld "$R/log/mariadb"
    # the package postinst already initialised /var/lib/mysql; root logs in via unix_socket
    setsid /usr/sbin/mariadbd --user=mysql --log-error="$R/log/mariadb/error.log" </dev/null >/dev/null 2>&1 &
    for i in $(seq 60); do mariadb -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
              CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmdb';
              GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
  cat > /etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
LogFile=$R/log/slurmdbd.log
PidFile=$R/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurmdb
StorageLoc=slurm_acct_db
EOF
  chown slurm:slurm /etc/slurm/slurmdbd.conf && chmod 600 /etc/slurm/slurmdbd.conf   # slurmdbd refuses other modes
  ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
AccountingStoreFlags=job_comment"
else
  ACCT="AccountingStorageType=accounting_storage/none"
fi

# --- slurm.conf / gres.conf ----------------------------------------------------
MEM=$(( $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) - 1024 ))   # RealMemory must not exceed what slurmd sees
GRES_NODE=""; GRES_TYPES=""
if [ "$FAKE_GPUS" -gt 0 ]; then
  GRES_TYPES="GresTypes=gpu"; GRES_NODE="Gres=gpu:$FAKE_GPUS"
  # gres/gpu silently drops GPUs without File=, and File must be a char/block device: borrow harmless ones
  { echo "AutoDetect=off"
    for d in $(echo /dev/null /dev/zero /dev/full /dev/urandom | cut -d' ' -f1-"$FAKE_GPUS"); do
      echo "NodeName=$H Name=gpu File=$d"; done; } > /etc/slurm/gres.conf
else
  rm -f /etc/slurm/gres.conf
fi
cat > /etc/slurm/slurm.conf <<EOF
ClusterName=$CLUSTER
SlurmctldHost=$H(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$R/ctld
SlurmdSpoolDir=$R/spool
SlurmctldPidFile=$R/run/slurmctld.pid
SlurmdPidFile=$R/run/slurmd.pid
SlurmctldLogFile=$R/log/slurmctld.log
SlurmdLogFile=$R/log/slurmd.log
# no cgroups: works in containers/VMs without delegated cgroups (no memory/CPU enforcement)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
$ACCT
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without this a job that gives no --mem is allocated the whole node's memory and jobs serialise
DefMemPerCPU=1000
ReturnToService=2
$GRES_TYPES
NodeName=$H NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$MEM $GRES_NODE State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

# --- start daemons --------------------------------------------------------------
if [ "$SLURM_ACCOUNTING" = 1 ]; then
  /usr/sbin/slurmdbd
  for i in $(seq 60); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.5; done
  sacctmgr -i add cluster "$CLUSTER" >/dev/null || true   # slurmctld would also auto-register it
fi
/usr/sbin/slurmctld
/usr/sbin/slurmd
for i in $(seq 120); do [ "$(sinfo -h -n "$H" -o %T 2>/dev/null)" = idle ] && break; sleep 0.5; done
sinfo
[ "$(sinfo -h -n "$H" -o %T)" = idle ] || { tail -20 "$R"/log/*.log; exit 1; }

# --- smoke test -------------------------------------------------------------------
JID=$(srun --mem=50 -t 1 printenv SLURM_JOB_ID)     # srun returns as soon as the job ends (sbatch --wait polls slowly)
echo "smoke-test job $JID ran"
if [ "$SLURM_ACCOUNTING" = 1 ]; then   # job records reach slurmdbd a second or two after the job ends
  for i in $(seq 30); do sacct -X -n -j "$JID" -o State | grep -q COMPLETED && break; sleep 0.5; done
  sacct -X -n -j "$JID" -o JobID,JobName,State
fi
echo "SLURM cluster '$CLUSTER' is up (partition $PARTITION, accounting=$SLURM_ACCOUNTING, fake GPUs=$FAKE_GPUS)"
