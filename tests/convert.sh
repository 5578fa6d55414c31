#!/usr/bin/env bash
# nn-mpi-data csv | libsvm | npy on small files made here, read back with h5py and checked
# against expectations computed without the converter's parsers (Python's csv module and
# float(), numpy only for the .npy inputs and the statistics): format 2 attributes, quoted
# fields, blank lines, CRLF, label by name or index, delimiters, hold-out splits by the
# documented hash, --standardize statistics of the training rows alone, label mapping;
# every bad input named by file, line (row) and column (token), exit 1 and no output or
# temporary file; a 300 MB CSV converted under a 150 MB address-space limit.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's interpreter, with python3-numpy and python3-h5py
"$PY" -c 'import numpy, h5py' 2>/dev/null ||
    { echo "skipped: needs Debian's python3-numpy and python3-h5py (scripts/setup-deps.sh)"; exit 77; }
D=$WORK/in
mkdir -p "$D"

# check OUT.h5 PYTHON...: runs the Python checks with f = the open file, np, and the
# helpers rows(path, label, delimiter, header) -> (X float32, y int64) from the csv module
# and holdout(seed, n, test, validation) -> split index per row (0 train, 1 test, 2 val).
check() {
    local file=$1
    shift
    "$PY" - "$file" "$@" <<'EOF' || fail "check of $file failed"
import csv, sys, h5py, numpy as np
M = (1 << 64) - 1
def mix64(z):
    z = (z + 0x9e3779b97f4a7c15) & M
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)
def holdout(seed, n, test, val=0.0):
    base = mix64(seed ^ 0x686f6c646f7574)
    u = np.array([(mix64(base ^ i) >> 11) * 2.0 ** -53 for i in range(n)])
    return np.where(u < test, 1, np.where(u < test + val, 2, 0))
def rows(path, label, delimiter=',', header=True):
    with open(path, newline='') as fh:
        table = [r for r in csv.reader(fh, delimiter=delimiter) if r]
    if header:
        table = table[1:]
    y = np.array([int(r[label]) for r in table], dtype=np.int64)
    X = np.array([[np.float32(float(v)) for j, v in enumerate(r) if j != label % len(r)]
                  for r in table], dtype=np.float32)
    return X, y
f = h5py.File(sys.argv[1], 'r')
assert f.attrs['format'] == b'nn-mpi dataset', f.attrs['format']
assert f.attrs['format_version'] == 2 and f.attrs['format_version'].dtype == np.int64
for s in ('train', 'test', 'validation'):
    if s in f:
        assert f[s + '/images'].dtype == np.float32 and f[s + '/labels'].dtype == np.int64
        assert f[s + '/images'].chunks is not None
        assert 0 <= f[s + '/labels'][()].min() and f[s + '/labels'][()].max() < f.attrs['classes']
for code in sys.argv[2:]:
    exec(code)
EOF
}

# bad TEXT COMMAND...: COMMAND (nn-mpi-data with its arguments, the output $WORK/bad.h5)
# exits 1 with TEXT in its message and leaves no output or temporary file.
bad() {
    local text=$1
    shift
    expect_status 1 timeout 20 "$NN_MPI_DATA" "$@"
    expect_in "$WORK/err" "$text"
    [ ! -e "$WORK/bad.h5" ] || fail "$*: an output file was left behind"
    ! compgen -G "$WORK/bad.h5.tmp.*" >/dev/null || fail "$*: a temporary file was left behind"
}

# --- CSV -----------------------------------------------------------------------------
# A header with quoted names (one holding the delimiter), the label column in the middle
# named "label", quoted numbers, a blank line, spaces around a value; a test file with CRLF
# line ends.
printf 'a,"label",b b,"c,d"\n1.5,0,2,3\n"2.5",1,-4e-1,"5"\n\n3,2, 6 ,7.25\n0.1,1,1e3,-0\n' >"$D/train.csv"
printf 'a,label,b b,"c,d"\r\n9,1,8,7\r\n6,0,5,4.125\r\n' >"$D/test.csv"
expect_status 0 "$NN_MPI_DATA" csv "$D/train.csv" "$D/test.csv" "$WORK/a.h5" --label label
expect_in "$WORK/out" "4 train, 2 test rows of 3 features, 3 classes"
check "$WORK/a.h5" "
X, y = rows('$D/train.csv', 1); Xt, yt = rows('$D/test.csv', 1)
assert (f['train/images'][()] == X).all() and (f['train/labels'][()] == y).all(), f['train/images'][()]
assert (f['test/images'][()] == Xt).all() and (f['test/labels'][()] == yt).all()
assert f.attrs['classes'] == 3 and f.attrs['source'] == b'$D/train.csv and $D/test.csv'
assert 'mean' not in f and 'validation' not in f"
# The same by index (1-based), with --classes and --source.
expect_status 0 "$NN_MPI_DATA" csv "$D/train.csv" "$D/test.csv" "$WORK/b.h5" --label 2 \
    --classes 5 --source "unit test"
check "$WORK/b.h5" "assert f.attrs['classes'] == 5 and f.attrs['source'] == b'unit test'"
h5diff "$WORK/a.h5" "$WORK/b.h5" /train /train >/dev/null || fail "--label 2 differs from --label label"
# No header (detected), the label last by default, ';' and tab delimiters.
printf '1;2;0\n3;4;1\n5;6;1\n' >"$D/semi.csv"
expect_status 0 "$NN_MPI_DATA" csv "$D/semi.csv" "$D/semi.csv" "$WORK/c.h5" --delimiter ';'
check "$WORK/c.h5" "X, y = rows('$D/semi.csv', -1, ';', False)
assert (f['train/images'][()] == X).all() and (f['train/labels'][()] == y).all()"
tr ';' '\t' <"$D/semi.csv" >"$D/tab.tsv"
expect_status 0 "$NN_MPI_DATA" csv "$D/tab.tsv" "$D/tab.tsv" "$WORK/d.h5" --delimiter tab --no-header
for g in /train /test; do h5diff "$WORK/c.h5" "$WORK/d.h5" $g $g >/dev/null || fail "tab-separated input differs from ';'"; done
# --header on a numeric first row makes it the header.
expect_status 0 "$NN_MPI_DATA" csv "$D/semi.csv" "$D/semi.csv" "$WORK/e.h5" --delimiter ';' --header
check "$WORK/e.h5" "assert len(f['train/labels']) == 2"
# --map-labels: any integers, ascending -> 0..k-1, kept in label_values.
printf 'x,y\n1,-5\n2,7\n3,-5\n4,100\n' >"$D/map.csv"
expect_status 0 "$NN_MPI_DATA" csv "$D/map.csv" "$D/map.csv" "$WORK/m.h5" --map-labels
check "$WORK/m.h5" "assert list(f['train/labels'][()]) == [0, 1, 0, 2]
assert list(f.attrs['label_values']) == [-5, 7, 100] and f.attrs['classes'] == 3"

# Hold-out splits and standardization: 300 rows, 4 features, column 0 the row number.
"$PY" -c "
import random
random.seed(3)
print('i,u,v,w,label')
for i in range(300):
    print(f'{i},{random.gauss(5, 2):.6g},{random.uniform(-1, 1):.4f},{random.gauss(0, 1e3):.5g},{i % 4}')
" >"$D/stats.csv"
expect_status 0 "$NN_MPI_DATA" csv "$D/stats.csv" "$WORK/s.h5" --test-fraction 0.2 \
    --validation-fraction 0.1 --seed 7 --standardize
check "$WORK/s.h5" "
X, y = rows('$D/stats.csv', -1)
split = holdout(7, len(y), 0.2, 0.1)
for k, name in enumerate(('train', 'test', 'validation')):
    assert (f[name + '/images'][()] == X[split == k]).all(), name
    assert (f[name + '/labels'][()] == y[split == k]).all(), name
assert 40 < (split == 1).sum() < 80 and 15 < (split == 2).sum() < 45, np.bincount(split)
train = X[split == 0].astype(np.float64)
assert f['mean'].dtype == np.float32 and f['std'].shape == (4,)
assert np.allclose(f['mean'][()], train.mean(axis=0), rtol=1e-6, atol=1e-6), (f['mean'][()], train.mean(axis=0))
assert np.allclose(f['std'][()], train.std(axis=0), rtol=1e-6), (f['std'][()], train.std(axis=0))
assert not np.allclose(f['mean'][()], X.astype(np.float64).mean(axis=0), rtol=1e-6)"
# Another seed chooses other rows.
expect_status 0 "$NN_MPI_DATA" csv "$D/stats.csv" "$WORK/s2.h5" --test-fraction 0.2 --seed 8
check "$WORK/s2.h5" "
X, y = rows('$D/stats.csv', -1)
split = holdout(8, len(y), 0.2)
assert (f['test/images'][()] == X[split == 1]).all() and (split != holdout(7, len(y), 0.2)).any()"
# A constant feature gets std 1.
printf '1,2,0\n1,3,1\n1,5,0\n' >"$D/const.csv"
expect_status 0 "$NN_MPI_DATA" csv "$D/const.csv" "$D/const.csv" "$WORK/k.h5" --standardize
check "$WORK/k.h5" "assert list(f['std'][()])[0] == 1.0 and list(f['mean'][()]) == [1.0, np.float32(10 / 3)]"
echo "csv: values, quoting, blank lines, CRLF, labels by name and index, delimiters, splits and statistics"

# Bad CSV input: file, line and column named; exit 1; nothing left.
b=$D/bad.csv
printf 'a,b,label\n1,2,0\n3,,1\n' >"$b"
bad "$b:3: column 2 (\"b\"): missing value" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf 'a,b,label\n1,2,0\n\n3,abc,1\n' >"$b"
bad "$b:4: column 2 (\"b\"): not a finite number: 'abc'" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf 'a,b,label\n1,2,0\n3,nan,1\n' >"$b"
bad "$b:3: column 2 (\"b\"): not a finite number: 'nan'" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf '1,,0\n3,4,1\n' >"$b" # an empty field does not make the first row a header
bad "$b:1: column 2: missing value" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf '1,2,0\n3,4,1\n5,6\n' >"$b"
bad "$b:3: 2 columns, expected 3" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf '1,2,0\n3,4,1,9\n' >"$b"
bad "$b:2: 4 columns, expected 3" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf 'a,b,label\n' >"$b"
bad "$b: no data rows" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf '' >"$b"
bad "$b: no data rows" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf 'a,b,label\n1,2,0\n"3"x,4,1\n' >"$b"
bad "$b:3: malformed quoting" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf 'a,b,label\n1,2,0\n"3,4,1\n' >"$b"
bad "$b:3: a quoted field is not closed" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf 'a,b,label\n1,2,0\n3,4,cat\n' >"$b"
bad "$b:3: column 3 (\"label\"): label is not an integer: 'cat'" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf 'a,b,label\n1,2,0\n3,4,-1\n' >"$b"
bad "$b:3: column 3 (\"label\"): label -1 is negative" csv "$b" "$WORK/bad.h5" --test-fraction 0.5
printf 'a,b,label\n1,2,0\n3,4,3\n' >"$b"
bad "$b:3: column 3 (\"label\"): label 3 is not below --classes 3" csv "$b" "$WORK/bad.h5" \
    --test-fraction 0.5 --classes 3
printf 'a,b,label\n1,2,0\n' >"$b"
bad "$b: --label nope: no such column in the header" csv "$b" "$WORK/bad.h5" --label nope --test-fraction 0.5
bad "$b: --label 4: the file has columns 1..3" csv "$b" "$WORK/bad.h5" --label 4 --test-fraction 0.5
bad "$D/semi.csv:1: 1 columns, expected 4 as in the training file" csv "$D/train.csv" "$D/semi.csv" "$WORK/bad.h5" --label label
bad "no test rows (give a test file, or hold rows out with --test-fraction)" csv "$D/semi.csv" "$WORK/bad.h5" --delimiter ';'
bad "$D/none.csv: cannot open: No such file or directory" csv "$D/none.csv" "$WORK/bad.h5" --test-fraction 0.5
mkfifo "$D/fifo.csv"
bad "$D/fifo.csv: cannot open: not a regular file" csv "$D/fifo.csv" "$WORK/bad.h5" --test-fraction 0.5
# Usage errors: status 2.
expect_status 2 "$NN_MPI_DATA" csv "$D/semi.csv" "$WORK/bad.h5" --bogus
expect_in "$WORK/err" "unknown option --bogus"
expect_status 2 "$NN_MPI_DATA" csv "$D/semi.csv" "$WORK/bad.h5" --labels y.npy
expect_in "$WORK/err" "--labels does not apply to csv"
expect_status 2 "$NN_MPI_DATA" csv "$D/semi.csv" "$WORK/bad.h5" --test-fraction 1.5
expect_status 2 "$NN_MPI_DATA" csv "$D/semi.csv" "$D/semi.csv" "$WORK/bad.h5" --test-fraction 0.5
expect_status 0 "$NN_MPI_DATA" --help
for w in "csv TRAIN.csv" "npy --features X.npy" "libsvm TRAIN" --standardize --test-fraction \
    --features-key --map-labels --delimiter; do
    expect_in "$WORK/out" "$w"
done
echo "csv: bad input refused with file, line and column; usage errors status 2"

# --- LIBSVM --------------------------------------------------------------------------
printf '# a comment line\n+1 1:0.5 3:2 # trailing comment\n-1 qid:2 2:1.5\n\n+1 4:1e-3\n-1\n' >"$D/train.svm"
printf -- '-1 2:7\r\n' >"$D/test.svm"
expect_status 0 "$NN_MPI_DATA" libsvm "$D/train.svm" "$D/test.svm" "$WORK/l.h5"
expect_in "$WORK/out" "4 train, 1 test rows of 4 features, 2 classes"
check "$WORK/l.h5" "
assert (f['train/images'][()] == np.float32([[0.5, 0, 2, 0], [0, 1.5, 0, 0], [0, 0, 0, 1e-3], [0, 0, 0, 0]])).all()
assert list(f['train/labels'][()]) == [1, 0, 1, 0] and list(f['test/labels'][()]) == [0]
assert (f['test/images'][()] == np.float32([[0, 7, 0, 0]])).all()
assert list(f.attrs['label_values']) == [-1, 1] and f.attrs['classes'] == 2"
expect_status 0 "$NN_MPI_DATA" libsvm "$D/train.svm" "$WORK/l6.h5" --features 6 --test-fraction 0.5
check "$WORK/l6.h5" "assert f['train/images'].shape[1] == 6"
printf '3 1:1\n1 2:1\n2 1:2\n' >"$D/multi.svm"
expect_status 0 "$NN_MPI_DATA" libsvm "$D/multi.svm" "$D/multi.svm" "$WORK/l3.h5"
check "$WORK/l3.h5" "assert list(f['train/labels'][()]) == [2, 0, 1] and list(f.attrs['label_values']) == [1, 2, 3]"
s=$D/bad.svm
printf '+1 1:1 3:1\n-1 3:1 2:1\n' >"$s"
bad "$s:2: token '2:1': indices must ascend" libsvm "$s" "$WORK/bad.h5" --test-fraction 0.5
printf '+1 1:1 3:1\n-1 2:1 2:3\n' >"$s"
bad "$s:2: token '2:3': indices must ascend" libsvm "$s" "$WORK/bad.h5" --test-fraction 0.5
printf '+1 1:1\n-1 4:1\n' >"$s"
bad "$s:2: token '4:1': index beyond the 3 features" libsvm "$s" "$WORK/bad.h5" --features 3 --test-fraction 0.5
printf '+1 0:1\n' >"$s"
bad "$s:1: token '0:1': indices start at 1" libsvm "$s" "$WORK/bad.h5" --test-fraction 0.5
printf '+1 1:1\n-1 2-1\n' >"$s"
bad "$s:2: token '2-1': expected INDEX:VALUE" libsvm "$s" "$WORK/bad.h5" --test-fraction 0.5
printf '+1 1:1\n-1 x:1\n' >"$s"
bad "$s:2: token 'x:1': the index is not an integer >= 1" libsvm "$s" "$WORK/bad.h5" --test-fraction 0.5
printf '+1 1:1\n-1 2:1e\n' >"$s"
bad "$s:2: token '2:1e': the value is not a finite number" libsvm "$s" "$WORK/bad.h5" --test-fraction 0.5
printf '+1 1:1\ncat 2:1\n' >"$s"
bad "$s:2: token 'cat': the label is not an integer" libsvm "$s" "$WORK/bad.h5" --test-fraction 0.5
printf '# only a comment\n\n' >"$s"
bad "$s: no data rows" libsvm "$s" "$WORK/bad.h5" --test-fraction 0.5
echo "libsvm: values, comments, qid, labels mapped; bad tokens named with file and line"

# --- NumPy ---------------------------------------------------------------------------
"$PY" - "$D" <<'EOF'
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(5)
X = rng.standard_normal((40, 2, 3))                   # float64, 3-D: 6 features per row
y = rng.integers(0, 4, 40).astype(np.int16)
np.save(f'{d}/X.npy', X); np.save(f'{d}/y.npy', y)
np.save(f'{d}/Xt.npy', X[:7].astype('>f4')); np.save(f'{d}/yt.npy', y[:7].astype(np.uint8).reshape(7, 1))
np.savez(f'{d}/plain.npz', X=X.astype(np.float32), y=y.astype(np.int64))
np.savez_compressed(f'{d}/keras.npz', x_train=(X * 10 % 256).astype(np.uint8), y_train=y,
                    x_test=np.zeros((3, 2, 3), np.uint8), y_test=np.array([3, 2, 1], np.int32))
np.save(f'{d}/fortran.npy', np.asfortranarray(X.reshape(40, 6)))
np.save(f'{d}/object.npy', np.array([[1, 'a']] * 40, dtype=object), allow_pickle=True)
np.save(f'{d}/yfloat.npy', y.astype(np.float64))
np.save(f'{d}/y39.npy', y[:39])
np.save(f'{d}/Xnan.npy', np.where(np.arange(240).reshape(40, 6) == 13, np.nan, 1.0))
np.save(f'{d}/ybig.npy', np.where(np.arange(40) == 9, 7, 0))
np.save(f'{d}/rec.npy', np.zeros(40, dtype=[('a', '<f4'), ('b', '<i4')]))
EOF
expect_status 0 "$NN_MPI_DATA" npy --features "$D/X.npy" --labels "$D/y.npy" --test-features \
    "$D/Xt.npy" --test-labels "$D/yt.npy" "$WORK/n.h5"
check "$WORK/n.h5" "
X = np.load('$D/X.npy').reshape(40, 6); y = np.load('$D/y.npy')
assert (f['train/images'][()] == X.astype(np.float32)).all() and (f['train/labels'][()] == y).all()
assert (f['test/images'][()] == X[:7].astype(np.float32)).all() and (f['test/labels'][()] == y[:7]).all()
assert f.attrs['classes'] == y.max() + 1"
expect_status 0 "$NN_MPI_DATA" npy "$D/plain.npz" "$WORK/p.h5" --test-fraction 0.25 --seed 3 --standardize
check "$WORK/p.h5" "
X = np.load('$D/X.npy').reshape(40, 6).astype(np.float32); split = holdout(3, 40, 0.25)
assert (f['test/images'][()] == X[split == 1]).all() and (f['train/images'][()] == X[split == 0]).all()
assert np.allclose(f['mean'][()], X[split == 0].astype(np.float64).mean(axis=0), rtol=1e-6, atol=1e-7)"
expect_status 0 "$NN_MPI_DATA" npy "$D/keras.npz" "$WORK/q.h5"
check "$WORK/q.h5" "
z = np.load('$D/keras.npz')
assert (f['train/images'][()] == z['x_train'].reshape(40, 6)).all() and list(f['test/labels'][()]) == [3, 2, 1]"
bad "$D/fortran.npy: Fortran order (column-major) is not supported" npy --features "$D/fortran.npy" --labels "$D/y.npy" "$WORK/bad.h5" --test-fraction 0.5
bad "$D/object.npy: an object array (dtype object) cannot be read" npy --features "$D/object.npy" --labels "$D/y.npy" "$WORK/bad.h5" --test-fraction 0.5
bad "$D/rec.npy: a structured array" npy --features "$D/rec.npy" --labels "$D/y.npy" "$WORK/bad.h5" --test-fraction 0.5
bad "$D/yfloat.npy: labels of dtype float; expected integers" npy --features "$D/X.npy" --labels "$D/yfloat.npy" "$WORK/bad.h5" --test-fraction 0.5
bad "$D/X.npy has 40 rows but $D/y39.npy has 39" npy --features "$D/X.npy" --labels "$D/y39.npy" "$WORK/bad.h5" --test-fraction 0.5
bad "$D/Xnan.npy: row 2, column 1: nan is not a finite float32" npy --features "$D/Xnan.npy" --labels "$D/y.npy" "$WORK/bad.h5" --test-fraction 0.5
bad "$D/ybig.npy: row 9: label 7 is not below --classes 4" npy --features "$D/X.npy" --labels "$D/ybig.npy" "$WORK/bad.h5" --test-fraction 0.5 --classes 4
bad "$D/plain.npz: no array 'X2' in the archive" npy "$D/plain.npz" "$WORK/bad.h5" --features-key X2 --test-fraction 0.5
bad "$D/X.npy: not a readable .npz (zip) archive" npy "$D/X.npy" "$WORK/bad.h5" --test-fraction 0.5
head -c 500 "$D/X.npy" >"$D/short.npy"
bad "$D/short.npy: truncated" npy --features "$D/short.npy" --labels "$D/y.npy" "$WORK/bad.h5" --test-fraction 0.5
echo "npy: .npy and .npz (keras-style keys, compressed), dtypes, big-endian; bad arrays refused"

# --- Bounded memory ------------------------------------------------------------------
# A 300 MB CSV (10,000 distinct rows of a label and 28 features, 90 times over) converts
# under a 150 MB address-space limit, with --standardize and a hold-out.
"$PY" -c "
import random
random.seed(1)
for i in range(10000):
    print(','.join([str(i % 2)] + [f'{random.gauss(0, 1):.9g}' for _ in range(28)]))
" >"$D/block.csv"
for ((i = 0; i < 90; i++)); do cat "$D/block.csv"; done >"$D/big.csv"
size=$(stat -c %s "$D/big.csv")
[ "$size" -gt 300000000 ] || fail "big.csv is only $size bytes"
( ulimit -v 153600; exec "$NN_MPI_DATA" csv "$D/big.csv" "$WORK/big.h5" --label 1 \
    --test-fraction 0.1 --standardize ) >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "the 300 MB CSV did not convert under a 150 MB limit"; }
rm "$D/big.csv"
check "$WORK/big.h5" "
X, y = rows('$D/block.csv', 0, header=False)
n = 900000; split = holdout(1, n, 0.1); idx = np.arange(n) % 10000
tr = f['train/images']; assert tr.shape == ((split == 0).sum(), 28)
for s, name in ((0, 'train'), (1, 'test')):
    lab = f[name + '/labels'][()]
    assert (lab == y[idx[split == s]]).all(), name
    for at in (0, 123456 % len(lab), len(lab) - 1):
        assert (f[name + '/images'][at] == X[idx[split == s][at]]).all(), (name, at)
full = np.tile(X.astype(np.float64), (90, 1))[split == 0]
assert np.allclose(f['mean'][()], full.mean(axis=0), rtol=1e-5, atol=1e-6)
assert np.allclose(f['std'][()], full.std(axis=0), rtol=1e-5)"
echo "bounded memory: a $((size / 1000000)) MB CSV converted under a 150 MB address-space limit"

# What the converter writes, the trainer reads: three Gaussian blobs in 10 features as CSV
# with a header, a held-out test split and standardization, trained at -np 2.
/usr/bin/python3 - "$D/blobs.csv" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(5)
n = 3000; c = rng.integers(0, 3, n); X = rng.normal(size=(n, 10)) * 4 + 100 + c[:, None] * 8
with open(sys.argv[1], 'w') as f:
    f.write(','.join('f%d' % i for i in range(10)) + ',label\n')
    for x, y in zip(X, c): f.write(','.join('%.5f' % v for v in x) + ',%d\n' % y)
PY
expect_status 0 "$NN_MPI_DATA" csv "$D/blobs.csv" "$WORK/blobs.h5" --test-fraction 0.2 --standardize
expect_status 0 mpi 2 "$NN_MPI" "$NN_SOURCE/configs/test-small.ini" --set data.path="$WORK/blobs.h5" \
    --set data.train_samples=0 --set data.test_samples=0 --set model.hidden=16 --set run.dir= \
    --set log.metrics="$WORK/blobs.jsonl"
expect_in "$WORK/out" "model 10-16-3 "
at_least "$(metric "$WORK/blobs.jsonl" epoch test_accuracy | tail -n 1)" 0.9 "blobs test accuracy"
echo "a converted CSV trains: 10-16-3 above 90%"
finish convert
