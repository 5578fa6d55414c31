"""The contender of bench/convert.sh: pandas.read_csv, then an h5py write of the same
dataset that `nn-mpi-data csv TRAIN OUT --no-header --label 1 --test-fraction P --seed S`
writes (format 2: float32 features, int64 labels, the same hold-out rows, chunked by rows),
so that the two files can be compared with h5diff.
    python3 bench/convert_pandas.py IN.csv OUT.h5 P S"""
import sys

import h5py
import numpy as np
import pandas as pd


def holdout_u(seed, n):
    """u in [0, 1) per row from (seed, row): nn_writer_holdout's hash, in uint64 arithmetic."""
    def mix64(z):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))
    with np.errstate(over='ignore'):
        base = mix64(np.uint64(seed) ^ np.uint64(0x686F6C646F7574))
        z = mix64(base ^ np.arange(n, dtype=np.uint64))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def main():
    src, out, fraction, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    df = pd.read_csv(src, header=None)
    y = df.iloc[:, 0].to_numpy(np.int64)
    X = df.iloc[:, 1:].to_numpy(np.float32)
    test = holdout_u(seed, len(y)) < fraction
    chunk_rows = max(1, (64 << 10) // (4 * X.shape[1]))
    with h5py.File(out, 'w') as f:
        f.attrs['format'] = np.bytes_('nn-mpi dataset')
        f.attrs['format_version'] = np.int64(2)
        f.attrs['source'] = np.bytes_(src)
        f.attrs['classes'] = np.int64(max(2, int(y.max()) + 1))
        for name, rows in (('train', ~test), ('test', test)):
            g = f.create_group(name)
            g.create_dataset('images', data=X[rows], chunks=(chunk_rows, X.shape[1]),
                             maxshape=(None, X.shape[1]))
            g.create_dataset('labels', data=y[rows], chunks=(8192,), maxshape=(None,))


if __name__ == '__main__':
    main()
