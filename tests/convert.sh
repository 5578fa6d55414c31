#!/usr/bin/env bash
# nn-mpi-data csv | libsvm | npy on small files made here, read back with h5py and checked
# against expectations computed without the converter's parsers (Python's csv module and
# float(), numpy only for the .npy inputs and the statistics): format 2 attributes, quoted
# fields, blank lines, CRLF, label by name or index, delimiters, hold-out splits by the
# documented hash, --standardize statistics of the training rows alone, label mapping;
# every bad input named by file, line (row) and column (token), exit 1 and no output or
# temporary file; a 300 MB CSV converted under a 150 MB address-space limit. Regression
# targets (csv --target, npy --targets, libsvm --regression): float32 /SPLIT/targets equal
# to the input, no classes; bad targets refused the same way; a converted CSV trains with
# [model] loss = squared_error to test R^2 >= 0.9 (one target and two).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's interpreter, with python3-numpy and python3-h5py
"$PY" -c 'import numpy, h5py' 2>/dev/null ||
    { echo "skipped: needs Debian's python3-numpy and python3-h5py (scripts/setup-deps.sh)"; exit 77; }
D=$WORK/in
mkdir -p "$D"

# check OUT.h5 PYTHON...: runs the Python checks with f = the open file, np, and the
# helpers rows(path, label, delimiter, header) -> (X float32, y int64) from the csv module,
# target_rows(path, columns, delimiter, header) -> (X float32, T float32 (N, len(columns)):
# those 0-based columns in that order) and holdout(seed, n, test, validation) -> split index
# per row (0 train, 1 test, 2 val). A file with /train/targets is checked as a regression
# dataset (float32 targets in every split, no labels, no classes).
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
def read_table(path, delimiter, header):
    with open(path, newline='') as fh:
        table = [r for r in csv.reader(fh, delimiter=delimiter) if r]
    return table[1:] if header else table
def target_rows(path, columns, delimiter=',', header=True):
    table = read_table(path, delimiter, header)
    T = np.array([[np.float32(float(r[j])) for j in columns] for r in table], dtype=np.float32)
    X = np.array([[np.float32(float(v)) for j, v in enumerate(r) if j not in columns]
                  for r in table], dtype=np.float32)
    return X, T
def rows(path, label, delimiter=',', header=True):
    table = read_table(path, delimiter, header)
    y = np.array([int(r[label]) for r in table], dtype=np.int64)
    X = np.array([[np.float32(float(v)) for j, v in enumerate(r) if j != label % len(r)]
                  for r in table], dtype=np.float32)
    return X, y
f = h5py.File(sys.argv[1], 'r')
assert f.attrs['format'] == b'nn-mpi dataset', f.attrs['format']
assert f.attrs['format_version'] == 2 and f.attrs['format_version'].dtype == np.int64
regression = 'targets' in f['train']
for s in ('train', 'test', 'validation'):
    if s in f:
        assert f[s + '/images'].dtype == np.float32 and f[s + '/images'].chunks is not None
        if regression:
            t = f[s + '/targets']
            assert 'labels' not in f[s] and t.dtype == np.float32 and t.chunks is not None, s
            assert len(t) == len(f[s + '/images']) and np.isfinite(t[()]).all(), s
            assert 'classes' not in f.attrs and 'label_values' not in f.attrs, dict(f.attrs)
        else:
            assert f[s + '/labels'].dtype == np.int64 and 'targets' not in f[s], s
            assert 0 <= f[s + '/labels'][()].min() and f[s + '/labels'][()].max() < f.attrs['classes']
for code in sys.argv[2:]:
    exec(code)
EOF
}

# bad TEXT COMMAND...: COMMAND (nn-mpi-data with its arguments, the output $WORK/bad.h5)
# exits 1 with TEXT in its message and leaves no output or temporary file.
# bad_status STATUS TEXT COMMAND...: the same with exit status STATUS (2: bad usage).
bad_status() {
    local status=$1 text=$2
    shift 2
    expect_status "$status" timeout 20 "$NN_MPI_DATA" "$@"
    expect_in "$WORK/err" "$text"
    [ ! -e "$WORK/bad.h5" ] || fail "$*: an output file was left behind"
    ! compgen -G "$WORK/bad.h5.tmp.*" >/dev/null || fail "$*: a temporary file was left behind"
}
bad() {
    bad_status 1 "$@"
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
    --features-key --map-labels --delimiter "--target COL" --targets --targets-key --regression \
    "/SPLIT/targets"; do
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

# --- Regression targets --------------------------------------------------------------
# reg.csv: a header x0,x1,y,x2,x3, the target y (in the middle) a smooth function of four
# features ~ N(0, 1): y = sin(2 x0) + x1 x2 / 2 + x3^2 / 4 (a linear fit explains about a
# third of its variance). two.csv: the same rows without a header, a second target
# y2 = 1 - x1 / 2 + x0 x3 / 4 first: y2,x0,x1,y,x2,x3. NumPy arrays for --targets.
"$PY" - "$D" <<'EOF'
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(13)
x = rng.normal(size=(3000, 4))
y = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] / 2 + x[:, 3] ** 2 / 4
y2 = 1 - x[:, 1] / 2 + x[:, 0] * x[:, 3] / 4
with open(f'{d}/reg.csv', 'w') as f:
    f.write('x0,x1,y,x2,x3\n')
    for r, t in zip(x, y): f.write('%.6g,%.6g,%.6g,%.6g,%.6g\n' % (r[0], r[1], t, r[2], r[3]))
with open(f'{d}/two.csv', 'w') as f:
    for r, t, t2 in zip(x, y, y2): f.write('%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n' % (t2, *r[:2], t, *r[2:]))
X = x[:40, :3]
np.save(f'{d}/tX.npy', X)
np.save(f'{d}/t1.npy', 2 * X[:, 0] + 1)                               # float64 (N,)
np.save(f'{d}/t2.npy', np.stack([X[:, 1], X[:, 2] * 1e3], 1).astype(np.float32))  # (N, 2)
np.save(f'{d}/ti.npy', (np.arange(40) - 5).astype(np.int16))          # integers
np.save(f'{d}/tXt.npy', X[:6] + 1); np.save(f'{d}/t2t.npy', np.ones((6, 2), '>f4'))
np.save(f'{d}/t1t.npy', np.ones((6, 1)))
np.savez(f'{d}/reg.npz', X=X, t=X[:, :2], X_test=X[:5], y_test=X[:5, :2] * 2)
np.save(f'{d}/tnan.npy', np.where(np.arange(40) == 7, np.nan, 1.0))
np.save(f'{d}/t2inf.npy', np.where(np.arange(80).reshape(40, 2) == 7, np.inf, 1.0))
np.save(f'{d}/t3d.npy', np.zeros((40, 2, 2)))
EOF
expect_status 0 "$NN_MPI_DATA" csv "$D/reg.csv" "$WORK/r.h5" --target y --test-fraction 0.2 --standardize
expect_in "$WORK/out" "rows of 4 features, 1 target"
check "$WORK/r.h5" "
X, T = target_rows('$D/reg.csv', [2]); split = holdout(1, len(T), 0.2)
for k, name in enumerate(('train', 'test')):
    assert f[name + '/targets'].shape == ((split == k).sum(),), f[name + '/targets'].shape
    assert (f[name + '/targets'][()] == T[split == k, 0]).all(), name
    assert (f[name + '/images'][()] == X[split == k]).all(), name
assert f['mean'].shape == (4,) and f['std'].shape == (4,)
assert np.allclose(f['mean'][()], X[split == 0].astype(np.float64).mean(axis=0), rtol=1e-6, atol=1e-6)"
# Two targets by 1-based index, listed out of column order: /SPLIT/targets (N, 2) in that order.
expect_status 0 "$NN_MPI_DATA" csv "$D/two.csv" "$WORK/r2.h5" --target 4,1 --test-fraction 0.2
expect_in "$WORK/out" "rows of 4 features, 2 targets"
check "$WORK/r2.h5" "
X, T = target_rows('$D/two.csv', [3, 0], header=False); split = holdout(1, len(T), 0.2)
for k, name in enumerate(('train', 'test')):
    assert f[name + '/targets'].shape == ((split == k).sum(), 2), f[name + '/targets'].shape
    assert (f[name + '/targets'][()] == T[split == k]).all(), name
    assert (f[name + '/images'][()] == X[split == k]).all(), name"
# A header name holding the delimiter is matched whole (not as the list c, d); a test file.
expect_status 0 "$NN_MPI_DATA" csv "$D/train.csv" "$D/test.csv" "$WORK/r3.h5" --target 'c,d'
check "$WORK/r3.h5" "
X, T = target_rows('$D/train.csv', [3]); Xt, Tt = target_rows('$D/test.csv', [3])
assert (f['train/targets'][()] == T[:, 0]).all() and (f['train/images'][()] == X).all()
assert (f['test/targets'][()] == Tt[:, 0]).all() and (f['test/images'][()] == Xt).all()"
b=$D/bad.csv
printf 'a,y,b\n1,2,0\n3,abc,1\n' >"$b"
bad "$b:3: column 2 (\"y\"): target is not a finite number: 'abc'" csv "$b" "$WORK/bad.h5" --target y --test-fraction 0.5
printf 'a,y,b\n1,2,0\n\n3,,1\n' >"$b"
bad "$b:4: column 2 (\"y\"): missing value" csv "$b" "$WORK/bad.h5" --target y --test-fraction 0.5
printf '1,2,0\n3,4,nan\n' >"$b"
bad "$b:2: column 3: target is not a finite number: 'nan'" csv "$b" "$WORK/bad.h5" --target 3,1 --test-fraction 0.5
printf 'a,y,b\n1,2,0\n' >"$b"
bad "$b: --target y,2: column 2 is named twice" csv "$b" "$WORK/bad.h5" --target y,2 --test-fraction 0.5
bad "$b: --target b,a,y: no column is left for the features" csv "$b" "$WORK/bad.h5" --target b,a,y --test-fraction 0.5
bad "$b: --target q: no such column in the header" csv "$b" "$WORK/bad.h5" --target q --test-fraction 0.5
bad "$b: --target 4: the file has columns 1..3" csv "$b" "$WORK/bad.h5" --target 1,4 --test-fraction 0.5
bad_status 2 "--label and --target exclude each other" csv "$b" "$WORK/bad.h5" --label a --target y --test-fraction 0.5
bad_status 2 "--classes and --target exclude each other: --classes is for class labels" csv "$b" "$WORK/bad.h5" \
    --target y --classes 3 --test-fraction 0.5
bad_status 2 "--map-labels and --target exclude each other" csv "$b" "$WORK/bad.h5" --target y --map-labels --test-fraction 0.5
echo "csv --target: by name (one holding a comma), two by index in list order; bad targets named"

# npy --targets: float64 (N,), float32 (N, 2) with test arrays (big-endian), integers,
# an .npz by --targets-key (test targets y_test by default).
expect_status 0 "$NN_MPI_DATA" npy --features "$D/tX.npy" --targets "$D/t1.npy" "$WORK/rn.h5" --test-fraction 0.25
expect_in "$WORK/out" "rows of 3 features, 1 target"
check "$WORK/rn.h5" "
X = np.load('$D/tX.npy').astype(np.float32); t = np.load('$D/t1.npy').astype(np.float32)
split = holdout(1, 40, 0.25)
assert f['train/targets'].shape == ((split == 0).sum(),) and (f['train/targets'][()] == t[split == 0]).all()
assert (f['test/targets'][()] == t[split == 1]).all() and (f['test/images'][()] == X[split == 1]).all()"
expect_status 0 "$NN_MPI_DATA" npy --features "$D/tX.npy" --targets "$D/t2.npy" --test-features \
    "$D/tXt.npy" --test-targets "$D/t2t.npy" "$WORK/rn2.h5"
check "$WORK/rn2.h5" "
assert f['train/targets'].shape == (40, 2) and (f['train/targets'][()] == np.load('$D/t2.npy')).all()
assert (f['test/targets'][()] == np.ones((6, 2), np.float32)).all()"
expect_status 0 "$NN_MPI_DATA" npy --features "$D/tX.npy" --targets "$D/ti.npy" "$WORK/rni.h5" --test-fraction 0.25
check "$WORK/rni.h5" "assert (f['train/targets'][()] == (np.arange(40) - 5)[holdout(1, 40, 0.25) == 0]).all()"
expect_status 0 "$NN_MPI_DATA" npy "$D/reg.npz" "$WORK/rnz.h5" --targets-key t
check "$WORK/rnz.h5" "
z = np.load('$D/reg.npz')
assert (f['train/targets'][()] == z['t'].astype(np.float32)).all() and f['test/targets'].shape == (5, 2)
assert (f['test/targets'][()] == z['y_test'].astype(np.float32)).all()"
bad "$D/tnan.npy: row 7: target nan is not a finite float32" npy --features "$D/tX.npy" --targets "$D/tnan.npy" "$WORK/bad.h5" --test-fraction 0.5
bad "$D/t2inf.npy: row 3, column 1: target inf is not a finite float32" npy --features "$D/tX.npy" --targets "$D/t2inf.npy" "$WORK/bad.h5" --test-fraction 0.5
bad "$D/t3d.npy: targets must have shape (N,) or (N, T)" npy --features "$D/tX.npy" --targets "$D/t3d.npy" "$WORK/bad.h5" --test-fraction 0.5
bad "$D/t1t.npy has 1 targets per row but $D/t2.npy has 2" npy --features "$D/tX.npy" --targets "$D/t2.npy" \
    --test-features "$D/tXt.npy" --test-targets "$D/t1t.npy" "$WORK/bad.h5"
bad_status 2 "--labels and --targets exclude each other" npy --features "$D/tX.npy" --labels "$D/y.npy" --targets "$D/t1.npy" "$WORK/bad.h5" --test-fraction 0.5
bad_status 2 "--classes and --targets-key exclude each other" npy "$D/reg.npz" "$WORK/bad.h5" --targets-key t --classes 4
echo "npy --targets: (N,) and (N, 2), float and integer, .npz key; non-finite targets named by row"

# libsvm --regression: a real-valued first field (cadata/abalone style).
printf '3.5 1:0.5 3:2\n-1.25e-1 qid:1 2:1.5 # a comment\n\n7 4:1e-3\n' >"$D/reg.svm"
printf '0.25 2:7\n' >"$D/regt.svm"
expect_status 0 "$NN_MPI_DATA" libsvm "$D/reg.svm" "$D/regt.svm" "$WORK/rl.h5" --regression
expect_in "$WORK/out" "3 train, 1 test rows of 4 features, 1 target"
check "$WORK/rl.h5" "
assert (f['train/targets'][()] == np.float32([3.5, -0.125, 7])).all() and (f['test/targets'][()] == np.float32([0.25])).all()
assert (f['train/images'][()] == np.float32([[0.5, 0, 2, 0], [0, 1.5, 0, 0], [0, 0, 0, 1e-3]])).all()"
s=$D/bad.svm
printf '1.5 1:1\nabc 2:1\n' >"$s"
bad "$s:2: token 'abc': the target is not a finite number" libsvm "$s" "$WORK/bad.h5" --regression --test-fraction 0.5
printf '1.5 1:1\n-inf 2:1\n' >"$s"
bad "$s:2: token '-inf': the target is not a finite number" libsvm "$s" "$WORK/bad.h5" --regression --test-fraction 0.5
bad_status 2 "--classes and --regression exclude each other" libsvm "$s" "$WORK/bad.h5" --regression --classes 3 --test-fraction 0.5
echo "libsvm --regression: real-valued targets; bad ones named with file and line"

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

# What the converter writes for regression trains with [model] loss = squared_error: the
# converted reg.csv (one target) and two.csv (two targets), standardized, at -np 2, reach a
# test R^2 of at least 0.9 (about 0.97 and 0.98 here; a linear fit explains about a third).
reg=("$NN_SOURCE/configs/test-small.ini" --set data.train_samples=0 --set data.test_samples=0
     --set model.hidden=64,64 --set model.activation=tanh --set model.loss=squared_error
     --set train.epochs=20 --set train.batch_size=32 --set train.learning_rate=0.05
     --set checkpoint.every_steps=0 --set checkpoint.keep=0 --set log.every_steps=1000 --set run.dir=)
expect_status 0 "$NN_MPI_DATA" csv "$D/two.csv" "$WORK/r2.h5" --target 4,1 --test-fraction 0.2 --standardize
for t in 1 2; do
    h5=$WORK/r.h5
    [ $t = 1 ] || h5=$WORK/r2.h5
    expect_status 0 mpi 2 "$NN_MPI" "${reg[@]}" --set data.path="$h5" --set log.metrics="$WORK/reg$t.jsonl"
    expect_in "$WORK/out" "model 4-64-64-$t tanh/squared_error"
    r2=$(metric "$WORK/reg$t.jsonl" epoch test_r2 | tail -n 1)
    at_least "$r2" 0.9 "converted CSV, $t target(s): test R^2"
    echo "a converted regression CSV trains: $t target(s), test R^2 $r2"
done
finish convert
