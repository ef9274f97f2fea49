#!/usr/bin/env bash
# The pruning CLI launched by Slurm's srun (docs/scaling.md, "Slurm"), on this one machine, with
# Debian's own Slurm (slurm-wlm 22.05) and Open MPI 4.1.4:
#   * installs slurm-wlm and munge if they are missing (apt-get, nothing removed);
#   * starts munged, slurmctld and slurmd in the background (-D, no systemd) against a private
#     single-node slurm.conf under a temporary directory (SLURM_CONF), on free ports, and stops
#     them at the end;
#   * `srun --mpi=pmix -n 2` of the CLI in the bindings' parity configuration (two batches, one
#     per task) gives the single-process decisions and losses (tools/mpi/compare_records.py; the
#     bytes can differ in thresholds' last bits, docs/numerics.md section 6), and task 1 prints
#     nothing;
#   * eight batches (four per task) give the single-process decisions and losses, thresholds
#     within 1e-5 (tools/mpi/compare_records.py);
#   * `srun --mpi=none -n 2` is refused by the CLI: "srun started 2 tasks but MPI sees this one
#     alone".
# Not a tools/ci/suite_*.sh (tools/test.sh does not run it): it installs packages and starts
# daemons. Run it as root: bash tools/mpi/slurm_check.sh. Prints "SUITE-COUNT <passed> <failed>".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
passed=0
failed=0
check() {  # check NAME STATUS (0 = pass)
  if [ "$2" -eq 0 ]; then echo "PASS $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi
}
finish() {
  echo "SUITE-COUNT ${passed} ${failed}"
  [ "$failed" -eq 0 ]
  exit
}
plugin="${GISP_SRUN_MPI:-pmix}"

# -- Debian's Slurm and munge.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
   ! command -v srun >/dev/null || ! command -v munged >/dev/null; then
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends --no-remove \
       slurm-wlm munge >/tmp/gisp-slurm-apt.log 2>&1; then
    tail -n 20 /tmp/gisp-slurm-apt.log
    echo "FAIL apt-get install slurm-wlm munge"
    failed=1
    finish
  fi
fi
echo "$(slurmctld -V), $(munged -V 2>&1 | head -n 1), $(mpirun --version 2>&1 | head -n 1)"

work=$(mktemp -d /tmp/gisp-slurm.XXXXXX)
chmod 700 "$work"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
show_logs() {
  local f
  for f in "$work"/log/*.log; do echo "== $f"; tail -n 15 "$f"; done
}

# -- A private munge key and socket.
mkdir -p "$work/munge" "$work/log" "$work/state" "$work/spool" "$work/tmp"
chmod 700 "$work/munge" "$work/log"
if [ -r /etc/munge/munge.key ]; then
  cp /etc/munge/munge.key "$work/munge/munge.key"
else
  dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 600 "$work/munge/munge.key"
sock="$work/munge/munge.socket"
munged -F --force --socket="$sock" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/munged.seed" \
  --log-file="$work/log/munged.log" >>"$work/log/munged.out.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

# -- slurm.conf: one node (this machine, its CPUs), one partition, no cgroups.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
host=$(hostname -s)
cpus=$(nproc)
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=gisp
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=${sock}
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
ReturnToService=2
StateSaveLocation=${work}/state
SlurmdSpoolDir=${work}/spool
TmpFS=${work}/tmp
SlurmctldPidFile=${work}/slurmctld.pid
SlurmdPidFile=${work}/slurmd.pid
SlurmctldLogFile=${work}/log/slurmctld.log
SlurmdLogFile=${work}/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN
PartitionName=gisp Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
slurmctld -D -i -f "$SLURM_CONF" >>"$work/log/slurmctld.out.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$work/log/slurmd.out.log" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 120); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -n 1)
  [ "$state" = "idle" ] && break
  sleep 0.5
done
[ "$state" = "idle" ]
check "slurmctld and slurmd up, node ${host} (${cpus} CPUs) ${state:-not reported}" $?
if [ "$state" != "idle" ]; then show_logs; finish; fi
echo "srun --mpi=list: $(srun --mpi=list 2>&1 | tr '\n' ' ')"

if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMP_NUM_THREADS=1
if ! bazel build //tools:prune >"$work/build.log" 2>&1; then
  tail -n 20 "$work/build.log"
  failed=$((failed + 1))
  finish
fi
prune="$(bazel info bazel-bin 2>/dev/null)/tools/prune"

# -- The CLI, parity configuration (tools/ci/suite_mpi.sh): 2 batches, one per task.
tiny=(--model testdata/tiny/model --calib testdata/tiny/calib.txt --objective lm --seed 0
      --targets= --eval= --export_models=false)
parity=("${tiny[@]}" --window 64 --windows 8 --ratio 0.5 --steps 3 --batch_size 4)
"$prune" "${parity[@]}" --out "$work/single" >/dev/null 2>"$work/single.log"
single_rc=$?
out=$(timeout 900 srun --mpi="$plugin" -n 2 --oversubscribe --label "$prune" "${parity[@]}" \
  --out "$work/ranks" 2>&1)
rc=$?
echo "$out" | grep -vE '^ *[01]: (layer|step|  )' | head -n 12 | cut -c1-200
cmp_rc=1
if [ -e "$work/ranks/record.json" ]; then
  /usr/bin/python3 tools/mpi/compare_records.py "$work/ranks/record.json" \
    "$work/single/record.json" 2>&1
  cmp_rc=$?
fi
[ "$single_rc" -eq 0 ] && [ "$rc" -eq 0 ] && [ "$cmp_rc" -eq 0 ]
check "srun --mpi=${plugin} -n 2: the single-process decisions and losses (rc $rc)" $?
quiet=$(echo "$out" | grep -c '^ *1: ' || true)
echo "$out" | grep -q '^ *0: # gisp pruning report'
[ $? -eq 0 ] && [ "$quiet" -eq 0 ]
check "task 0 alone prints the report (task 1 wrote $quiet lines)" $?

# -- Eight batches (four per task): the same decisions and losses, thresholds within 1e-5.
eight=("${tiny[@]}" --window 128 --windows 32 --ratio 0.6 --steps 8 --batch_size 4)
"$prune" "${eight[@]}" --out "$work/single8" >/dev/null 2>"$work/single8.log"
timeout 900 srun --mpi="$plugin" -n 2 --oversubscribe "$prune" "${eight[@]}" \
  --out "$work/ranks8" >"$work/ranks8.log" 2>&1
rc=$?
cmp_rc=1
if [ -e "$work/ranks8/record.json" ]; then
  /usr/bin/python3 tools/mpi/compare_records.py "$work/ranks8/record.json" \
    "$work/single8/record.json" 2>&1
  cmp_rc=$?
else
  tail -n 5 "$work/ranks8.log"
fi
[ "$rc" -eq 0 ] && [ "$cmp_rc" -eq 0 ]
check "srun --mpi=${plugin} -n 2, 4 batches each: the single-process decisions and losses (rc $rc)" $?

# -- No MPI plugin: every task would prune alone; the CLI refuses.
out=$(timeout 300 srun --mpi=none -n 2 --oversubscribe --label "$prune" "${parity[@]}" \
  --out "$work/alone" 2>&1)
rc=$?
echo "$out" | grep -E 'error|srun started' | head -n 4 | cut -c1-200
n=$(echo "$out" | grep -c 'srun started 2 tasks but MPI sees this one alone' || true)
[ "$rc" -ne 0 ] && [ "$n" -eq 2 ] && [ ! -e "$work/alone/record.pb" ]
check "srun --mpi=none -n 2: both tasks refuse (\"srun started 2 tasks but MPI sees this one alone\", rc $rc)" $?
[ "$failed" -eq 0 ] || show_logs
finish
