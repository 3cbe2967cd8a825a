#!/usr/bin/env bash
# "Smaller for the same features" (issue 10), measured: the commands symderiv had when the
# issue was filed (55eed82), valid then and now, run under coverage.py against a checkout;
# prints the percentage and writes OUTDIR/cov.json (totals.covered_lines: statements run,
# totals.num_statements: statements in the package). Needs `pip install coverage`.
#
#   git worktree add --detach /tmp/filed 55eed82
#   bash tests/benchmarks/feature_coverage.sh /tmp/filed /tmp/cov-filed
#   bash tests/benchmarks/feature_coverage.sh "$PWD" /tmp/cov-now
#   python -c "import json,sys; [print(p, json.load(open(p+'/cov.json'))['totals']['covered_lines']) for p in sys.argv[1:]]" /tmp/cov-filed /tmp/cov-now
#
# Usage: feature_coverage.sh TREE OUTDIR (TREE: a checkout; OUTDIR is replaced).
set -u
TREE=$1; OUT=$2; rm -rf "$OUT"; mkdir -p "$OUT/files"; cd "$OUT"
export PYTHONPATH=$TREE COVERAGE_FILE=$OUT/.coverage
run() { python -m coverage run -p --source="$TREE/symderiv" -m symderiv "$@" > /dev/null 2>&1 < /dev/null; }
for conv in xw torch column; do for vec in row col; do for fmt in text latex beamer markdown ipynb json; do
  run derive --n 2 --d 2 --m 3 --convention $conv --vec $vec --format $fmt -o files/d-$conv-$vec.$fmt
done; done; done
for m in index tensor all; do for fmt in text latex markdown json; do run derive --method $m --format $fmt -o files/m-$m.$fmt; done; done
for loss in mse sum; do for fmt in text latex; do run derive --loss $loss --format $fmt -o files/l-$loss.$fmt; done; done
run derive --layout numerator --format latex -o files/num.tex
run derive --names X=A,Y=Z,dY=dLdZ --wrt X,W --format text -o files/names.txt
run derive --n 12 --d 3 --m 2 --max-entries 4 --format text -o files/big.txt
run derive --format text --svg files/pic.svg -o files/svg.txt
run derive --format latex --pdf -o files/pdf.tex
run derive --n 99999 --d 999 --m 999
run derive --n 0
run check "dY @ W.T" --wrt X
run check "X.T @ dY" --wrt W
run check "W.T @ dY" --wrt X
run check "dY.sum(axis=0)" --wrt b --convention torch
run codegen -o files/lin.py
run codegen --convention torch -o files/lin2.py
run verify
run verify --convention column --loss mse
run conventions
run conventions --format latex -o files/conv.tex
run conventions --format markdown -o files/conv.md
run exercise --seed 3 -o files/ex.tex
run exercise --seed 3 --format markdown -o files/ex.md
run exercise --seed 3 --answers -o files/key.tex
python -m coverage combine -q
python -m coverage report --format=total
python -m coverage json -q -o cov.json
