#!/usr/bin/env bash
# A refactoring's safety net: 88 commands' stdout, stderr and exit codes for one checkout, at
# COLUMNS=80, to diff against another (every convention x format, the methods, losses,
# --values, networks, conventions, check, exercise, verify, codegen, bad input, --help).
#
#   git worktree add --detach /tmp/before main
#   bash tests/benchmarks/outputs_snapshot.sh /tmp/before /tmp/out-before
#   bash tests/benchmarks/outputs_snapshot.sh "$PWD" /tmp/out-after
#   diff -r /tmp/out-before /tmp/out-after   # OUT/cmds lists each command and its exit code
#
# Usage: outputs_snapshot.sh TREE OUT (OUT is replaced).
TREE=$1; OUT=$2; rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT"
export PYTHONPATH=$TREE COLUMNS=80
i=0
r() { i=$((i+1)); python -m symderiv "$@" > "$i.out" 2> "$i.err" < /dev/null; echo "$? $*" >> cmds; }
for conv in xw torch column wx; do for fmt in text latex beamer markdown ipynb html json; do r derive --convention $conv --format $fmt; done; done
for m in index tensor all; do for fmt in text latex beamer markdown; do r derive --method $m --format $fmt; done; done
for loss in mse sum softmax-ce; do r derive --loss $loss; r derive --loss $loss --format latex; done
r derive --vec col --layout numerator --format latex; r derive --values 1; r derive --values 2 --format markdown
r derive --n 1 --d 1 --m 1; r derive --n 12 --d 3 --m 11 --format latex; r derive --upstream bar --bold --format latex
r derive --names X=A,Y=Z,dY=dLdZ --index-base 0; r derive --format markdown --flavor gitlab; r derive --format markdown --flavor jupyter
for fmt in text latex markdown ipynb json html; do r derive --net "affine:3,relu,affine:2" --loss softmax-ce --n 2 --d 2 --format $fmt; done
r derive --net "affine:3,tanh,affine:2" --loss mse --n 2 --d 2 --method all
r conventions; r conventions --format latex; r conventions --format markdown
r check "dY @ W.T" --wrt X; r check "W @ dY" --wrt X; r check "X.T @ dY" --wrt W --format json; r check "dY.sum(0)" --wrt b --format gradescope
r exercise --seed 3; r exercise --seed 3 --answers --format markdown; r exercise --seed 5 --kind index
r verify; r verify --convention column --loss mse; r codegen; r codegen --names X=x,dY=dout; r codegen --net "affine:3,relu,affine:2" --loss softmax-ce
r derive --n 0; r derive --net "affine:2,,"; r derive --format latex --names X=1; r check "dY @@ W"; r derive --n 99999 --d 999 --m 999
for c in derive check verify codegen conventions exercise; do r $c --help; done
