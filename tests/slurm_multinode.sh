#!/usr/bin/env bash
# slurm/train-multinode.sbatch on a Slurm cluster of two fake nodes on this machine: the job
# runs 4 ranks across both nodes, launched with srun and with mpirun, and trains to the
# expected accuracy with bitwise the final weights of a 4-rank run on one node outside Slurm
# (reproducible mode: in plain mode the sums' rounding depends on the ranks per node).
source "$(dirname "$0")/lib.sh"
require_data
SLURM_NODES=2 source "$(dirname "$0")/slurm_lib.sh"
# Both fake nodes are one host: shared memory would collide across them.
export OMPI_MCA_btl=self,tcp
args=("$NN_SOURCE/configs/test-e2e.ini" --set data.path="$NN_DATA" --set train.epochs=2
      --set train.reproducible=yes)

expect_status 0 mpi 4 "$NN_MPI" "${args[@]}" --set run.dir="$WORK/ref"
for launcher in srun mpirun; do
    NN_LAUNCHER=$launcher submit "$launcher" "$NN_SOURCE/slurm/train-multinode.sbatch" "${args[@]}" \
        --set run.dir="$WORK/$launcher" --set log.metrics="$WORK/$launcher.jsonl"
    wait_done
    expect_job COMPLETED 0
    expect_in "$WORK/$launcher.out" "4 ranks on 2 node(s) (n[1-2])"
    expect_in "$WORK/$launcher.out" "nn-mpi 0.1.0: 4 ranks"
    accuracy=$(metric "$WORK/$launcher.jsonl" epoch test_accuracy | tail -n 1)
    at_least "$accuracy" 0.965 "$launcher: test accuracy"
    same_state "$WORK/ref/version_0/ckpt-000001876.h5" "$WORK/$launcher/job-$JOB/ckpt-000001876.h5"
    echo "$launcher: 4 ranks on 2 nodes, test accuracy $accuracy, bitwise the weights of one node outside Slurm"
done
finish slurm_multinode
