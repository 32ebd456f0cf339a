#!/usr/bin/env bash
# The GPU validation run (docs/gpu-validation.md): the collector against torch.profiler on the
# same job, samples/cuda_train under `teye record`, the collector's overhead, and before/after
# pairs that are the diagnosis's ground truth. One command, every step in it bounded in time;
# a step that fails is logged and the rest go on.
#
#   scripts/gpu/validate.sh                  on the GPU machine; results under $OUT
#   scripts/gpu/validate.sh --dry-run DIR    the same steps on this machine's CPU (tiny sizes,
#                                            no CUPTI), results under DIR
#   scripts/gpu/validate.sh --analyze DIR    only the last phase: re-analyse DIR's traces with
#                                            teye and rewrite DIR/validation.json
#
# On the GPU machine teye and the collector come from .gpu_carry/ (scripts/gpu/carry.sh builds
# it here; nothing can be installed there), python3 is the image's PyTorch.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

MODE=device
DEST=${OUT:-}
case "${1:-}" in
  --dry-run) MODE=dry; DEST=${2:?usage: validate.sh --dry-run DIR} ;;
  --analyze) MODE=analyze; DEST=${2:?usage: validate.sh --analyze DIR} ;;
  "") [ -n "$DEST" ] || { echo "validate.sh: \$OUT is not set (use --dry-run DIR here)" >&2; exit 2; } ;;
  *) echo "usage: validate.sh [--dry-run DIR | --analyze DIR]" >&2; exit 2 ;;
esac
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
FINAL=$DEST
# On the GPU machine the results are made in /tmp and packed into $OUT at the end: the device tool
# returns at most 8 files. Elsewhere DEST is the results folder (traces/, work/, validation.json).
if [ "$MODE" = device ]; then
  DEST=/tmp/teye-validate
  rm -rf "$DEST"
  mkdir -p "$DEST"
fi
WORK=$DEST/work
mkdir -p "$WORK"
LOG=$DEST/log.txt
# --analyze leaves the results folder as it was but for validation.json (tests/gpu is one).
[ "$MODE" = analyze ] && LOG=$(mktemp)
# TEYE_VALIDATE_ONLY: names of the steps to run (the others are skipped), for a second run that
# adds to the results of a first (scripts/gpu/merge_results.sh merges them before --analyze).
ONLY=${TEYE_VALIDATE_ONLY:-}
# Steps that would start after this many seconds are skipped (each step is bounded too), so the
# whole run ends inside the device tool's limit.
BUDGET_S=${TEYE_VALIDATE_BUDGET_S:-330}

log() { echo "[$(date +%T) +${SECONDS}s] $*" | tee -a "$LOG"; }

if [ "$MODE" = device ]; then
  PY=python3
  CARRY=$ROOT/.gpu_carry
  TEYE=$CARRY/bin/teye
  CUDA_TRAIN=$CARRY/bin/cuda_train
  # cuda_train needs cuBLAS and NCCL: the toolkit's, else the PyTorch wheels' copies. Only its
  # own runs get this path (teye finds its libraries through its RPATH).
  CT_LIBS=${LD_LIBRARY_PATH:-}
  for d in /usr/local/cuda/lib64 $($PY -c 'import nvidia, os; print(" ".join(os.path.join(p, q, "lib") for p in nvidia.__path__ for q in os.listdir(p)))' 2>/dev/null); do
    [ -d "$d" ] && CT_LIBS=${CT_LIBS:+$CT_LIBS:}$d
  done
else
  PY=/usr/bin/python3
  TEYE=$ROOT/build/teye
  CUDA_TRAIN=
fi
export PYTHONUNBUFFERED=1
JOBS="$HERE/jobs.py"

# run NAME TIMEOUT CMD...: one bounded step; its output in WORK/NAME.log, its status in the log.
run() {
  local name=$1 limit=$2
  shift 2
  if [ -n "$ONLY" ] && [ "$name" != summarize ] && ! [[ " $ONLY " == *" $name "* ]]; then
    return 98
  fi
  if [ $SECONDS -gt "$BUDGET_S" ] && [ "$name" != summarize ]; then
    log "$name: skipped (past the ${BUDGET_S} s budget)"
    echo skipped >"$WORK/$name.rc"
    return 99
  fi
  local t0=$SECONDS
  local out=$WORK
  [ "$MODE" = analyze ] && out=${reports:-$(mktemp -d)}
  timeout -k 10 "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  log "$name: rc=$rc in $((SECONDS - t0)) s$( [ $rc -ne 0 ] && echo " — tail: $(tail -n 3 "$out/$name.log" | tr '\n' '|' | cut -c1-400)")"
  echo "$rc" >"$out/$name.rc"
  return $rc
}

# Job sizes: the GPU run uses ResNet-18-sized models; the dry run the smallest that exercise
# every path.
if [ "$MODE" = device ]; then
  RESNET="--model resnet18 --width 64"
  IMG=128
  STEPS="--warmup 5 --steps 20 --profile-steps 12"
  MLP="--model mlp --mlp-width 512 --mlp-layers 16 --batch 64"
else
  RESNET="--model resnet18 --width 8"
  IMG=32
  STEPS="--warmup 1 --steps 3 --profile-steps 2"
  MLP="--model mlp --mlp-width 32 --mlp-layers 4 --batch 8"
fi
big() { [ "$MODE" = device ] && echo "$1" || echo "$2"; }

record_phase() {
  log "mode $MODE, results in $DEST"
  {
    echo "{"
    echo "\"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
    echo "\"mode\": \"$MODE\","
    echo "\"nvidia_smi\": \"$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)\","
    echo "\"nvcc\": \"$(nvcc --version 2>/dev/null | tail -1)\","
    echo "\"host\": \"$(uname -srm)\""
    echo "}"
  } >"$WORK/env.json"
  $PY -c 'import torch,sys; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())' >>"$LOG" 2>&1
  "$TEYE" --version >>"$LOG" 2>&1 || log "teye does not run here: $("$TEYE" --version 2>&1 | head -2 | tr '\n' ' ')"
  { nvidia-smi 2>&1 | head -15; nproc; pwd; ls /usr/local/cuda/lib64 2>&1 | grep -E 'nccl|cublas|cupti' | head; } >>"$LOG" 2>&1

  # 0. The collector's CUPTI test against the real GPU (it names its programs by their paths in
  #    the build tree they were built in: put the carried copies there).
  if [ "$MODE" = device ] && [ -f "$CARRY/tests/paths.txt" ]; then
    while read -r name path; do
      [ -e "$path" ] || { mkdir -p "$(dirname "$path")" && ln -s "$CARRY/tests/$name" "$path"; }
    done <"$CARRY/tests/paths.txt"
    run cupti_test 120 "$CARRY/tests/teye_collector_cupti_tests"
  fi

  # 1. Collector vs torch.profiler on the same job; the collector's overhead.
  local cmp="$RESNET --batch $(big 64 4) --image-size $IMG --loader dataloader --workers 2 --pinned $STEPS --nvtx-steps"
  run cmp_plain 120 $PY "$JOBS" --name cmp_plain --result "$WORK/cmp_plain.json" $cmp
  run cmp_collector 120 "$TEYE" record -o "$WORK/rec_cmp_collector" -- \
    $PY "$JOBS" --name cmp_collector --result "$WORK/cmp_collector.json" $cmp
  run cmp_torch 120 $PY "$JOBS" --name cmp_torch --result "$WORK/cmp_torch.json" \
    --profile "$WORK/torch" $cmp
  # 2. Before/after pairs, each recorded by torch.profiler (what users have).
  pair() {  # pair NAME "BEFORE ARGS" "AFTER ARGS" [extra before args]
    local name=$1
    run "pair_${name}_before" 120 $PY "$JOBS" --name "${name}_before" \
      --result "$WORK/pair_${name}_before.json" --profile "$WORK/torch" $2 $STEPS ${4:-}
    run "pair_${name}_after" 120 $PY "$JOBS" --name "${name}_after" \
      --result "$WORK/pair_${name}_after.json" --profile "$WORK/torch" $3 $STEPS
  }
  local loader="$RESNET --batch $(big 64 4) --image-size $IMG --loader dataloader --pinned --transform-ms $(big 0.25 1)"
  pair dataloader "$loader --workers 0" "$loader --workers 4"
  local amp="$RESNET --batch $(big 128 4) --image-size $IMG --pinned"
  pair amp "$amp" "$amp --amp" "--record-shapes"
  local copy="$RESNET --batch $(big 256 4) --image-size $IMG"
  pair pinned "$copy" "$copy --pinned"
  local sync="$RESNET --batch $(big 32 4) --image-size $(big 64 32) --pinned"
  pair sync "$sync --item-sync" "$sync"
  if [ "$MODE" = device ]; then
    pair cuda_graph "$MLP --pinned" "$MLP --pinned --cuda-graph"
  else
    log "pair cuda_graph: skipped (needs a GPU)"
  fi
  # AMP where the GPU's arithmetic is the bottleneck: FP32 GEMMs of a wide MLP (cuBLAS without
  # TF32), and ResNet-50's convolutions (cuDNN's default TF32).
  local wide="--model mlp --mlp-width $(big 4096 64) --mlp-layers $(big 8 2) --batch $(big 4096 16) --pinned"
  pair amp_mlp "$wide" "$wide --amp" "--record-shapes"
  local r50="--model resnet50 --width $(big 64 8) --batch $(big 256 2) --image-size $(big 224 32) --pinned"
  pair amp_conv "$r50" "$r50 --amp" "--record-shapes"
  # A .item() every step behind host work at the start of the step (bookkeeping before the input
  # copy): the sync exposes that work.
  local prep="$RESNET --batch $(big 256 4) --image-size $IMG --pinned --host-prep-ms $(big 4 1)"
  pair sync_prep "$prep --item-sync" "$prep"

  # The collector's overhead on a job that issues launches as fast as PyTorch can (ResNet-18,
  # tensors already pinned, no DataLoader), plain and recorded in turn, twice.
  local busy="$RESNET --batch $(big 128 4) --image-size $IMG --pinned --warmup $(big 10 1) --steps $(big 60 3)"
  for i in 1 2; do
    run "overhead_plain_$i" 120 $PY "$JOBS" --name "overhead_plain_$i" \
      --result "$WORK/overhead_plain_$i.json" $busy
    run "overhead_recorded_$i" 120 "$TEYE" record -o "$WORK/rec_overhead_$i" -- \
      $PY "$JOBS" --name "overhead_recorded_$i" --result "$WORK/overhead_recorded_$i.json" $busy
  done
  # Where the cost is: the same, recording without the driver API (TEYE_CUPTI_DRIVER=0).
  run overhead_nodriver 120 env TEYE_CUPTI_DRIVER=0 "$TEYE" record -o "$WORK/rec_overhead_nodriver" -- \
    $PY "$JOBS" --name overhead_nodriver --result "$WORK/overhead_nodriver.json" $busy

  run cmp_both 120 "$TEYE" record -o "$WORK/rec_cmp_both" -- \
    $PY "$JOBS" --name cmp_both --result "$WORK/cmp_both.json" --profile "$WORK/torch_both" $cmp

  # 3. samples/cuda_train under teye record, pageable and pinned copies.
  if [ -n "$CUDA_TRAIN" ] && [ -x "$CUDA_TRAIN" ]; then
    (cd "$WORK" && run cuda_train_pageable 120 env LD_LIBRARY_PATH="$CT_LIBS" "$TEYE" record -o "$WORK/rec_cuda_train_pageable" -- \
      "$CUDA_TRAIN" --steps 30 --data "$WORK/cuda_train.data" --data-mb 64)
    (cd "$WORK" && run cuda_train_pinned 120 env LD_LIBRARY_PATH="$CT_LIBS" "$TEYE" record -o "$WORK/rec_cuda_train_pinned" -- \
      "$CUDA_TRAIN" --steps 30 --pinned --bf16 --data "$WORK/cuda_train.data")
    (cd "$WORK" && run cuda_train_plain 120 env LD_LIBRARY_PATH="$CT_LIBS" "$CUDA_TRAIN" --steps 30 --pinned --bf16 \
      --data "$WORK/cuda_train.data")
  else
    log "cuda_train: skipped (no GPU build here)"
  fi

  # 4. Optional: Nsight Compute counters of a few kernels, if time is left.
  if [ "$MODE" = device ] && command -v ncu >/dev/null && [ $SECONDS -lt $((BUDGET_S - 90)) ]; then
    run ncu 75 ncu --clock-control none --target-processes all -c 12 --csv \
      --metrics gpu__time_duration.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed,dram__bytes.sum,smsp__sass_thread_inst_executed_op_ffma_pred_on.sum,smsp__sass_thread_inst_executed_op_hfma_pred_on.sum,sm__warps_active.avg.pct_of_peak_sustained_active \
      $PY "$JOBS" --name ncu --result "$WORK/ncu.json" $RESNET --batch 32 --image-size 64 --pinned \
      --warmup 1 --steps 1 --profile-steps 1
  fi

  # Traces: gzip'd, under short names.
  mkdir -p "$DEST/traces"
  for f in "$WORK"/torch/*.pt.trace.json "$WORK"/torch_both/*.pt.trace.json; do
    [ -f "$f" ] || continue
    local base
    base=$(basename "$f" .pt.trace.json)
    [ "${f#"$WORK"/torch_both/}" != "$f" ] && base="${base}_torch"
    gzip -c "$f" >"$DEST/traces/$base.pt.trace.json.gz"
  done
  for d in "$WORK"/rec_*; do
    [ -d "$d" ] || continue
    local tag=${d##*/rec_} n=0 pid main
    [ "${tag#overhead}" != "$tag" ] && continue  # timing runs: their traces are not kept
    # The process that ran the job (its pid is in the job's result) is the main trace; without a
    # result (cuda_train), the largest file.
    pid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$WORK/$tag.json" 2>/dev/null)
    main=$(ls -S "$d"/*.pt.trace.json* 2>/dev/null | head -1)
    [ -n "$pid" ] && main=$(ls "$d"/*".$pid.pt.trace.json"* 2>/dev/null | head -1)
    for f in "$d"/*.pt.trace.json*; do
      [ -f "$f" ] || continue
      if [ "$f" = "$main" ]; then
        gzip -c "$f" >"$DEST/traces/${tag}_collector.pt.trace.json.gz"
      else
        n=$((n + 1))
        gzip -c "$f" >"$WORK/${tag}_other$n.pt.trace.json.gz"
      fi
    done
    ls -l "$d" >>"$LOG"
  done
  log "record phase done"
}

analyze_phase() {
  [ -x "$TEYE" ] || TEYE=$ROOT/build/teye
  local reports=$WORK
  [ "$MODE" = analyze ] && reports=$(mktemp -d)
  run summarize 240 $PY "$HERE/summarize.py" --dest "$DEST" --teye "$TEYE" --mode "$MODE" \
    --reports "$reports"
  [ "$MODE" = analyze ] && cat "$reports/summarize.log" 2>/dev/null
}

if [ "$MODE" != analyze ]; then
  record_phase
fi
analyze_phase
[ "$MODE" = analyze ] && exit 0
# Everything else that should come back, in one archive (the device tool returns few files).
tar -C "$DEST" -czf "$DEST/work.tgz" --exclude='work/torch' --exclude='work/torch_both' \
  --exclude='work/rec_*' --exclude='*.data' work 2>/dev/null
if [ "$MODE" = device ]; then
  tar -C "$DEST" -cf "$FINAL/traces.tar" traces
  if [ "$(stat -c %s "$FINAL/traces.tar")" -gt $((15 << 20)) ]; then
    split -b 15m "$FINAL/traces.tar" "$FINAL/traces.tar.part-" && rm "$FINAL/traces.tar"
  fi
  cp "$DEST/work.tgz" "$DEST/validation.json" "$FINAL/" 2>/dev/null
fi
log "done in $SECONDS s"
[ "$MODE" = device ] && cp "$LOG" "$FINAL/log.txt"
exit 0
