#!/usr/bin/env bash
# nn-mpi-data on small IDX files made here: raw and gzipped input, the HDF5 it writes (read
# back with h5dump), and clear errors, with no output file, for a bad magic number, a
# truncated file, extra bytes, mismatched image and label counts, sizes a dataset cannot
# hold (65536 x 65536 images: the header alone), no images, and inputs that are not regular
# files (a FIFO, raw or .gz, a directory, a device), refused at once instead of hanging.
source "$(dirname "$0")/lib.sh"

good=$WORK/good
mkdir -p "$good"
idx_images "$good/train-images-idx3-ubyte" 12 4 5
idx_labels "$good/train-labels-idx1-ubyte" 12
idx_images "$good/t10k-images-idx3-ubyte" 3 4 5
idx_labels "$good/t10k-labels-idx1-ubyte" 3
gzip -k "$good/train-images-idx3-ubyte" # a gzipped copy next to the raw one

# A directory of raw files.
expect_status 0 "$NN_MPI_DATA" --source "unit test" "$good" "$WORK/a.h5"
expect_in "$WORK/out" "12 train and 3 test images of 4x5"
h5dump -A "$WORK/a.h5" >"$WORK/dump" || fail "h5dump cannot read the dataset file"
expect_in "$WORK/dump" 'DATASET "images"'
expect_in "$WORK/dump" '"unit test"'
expect_in "$WORK/dump" '(0): 4, 5'
h5dump -d /train/labels -w 0 "$WORK/a.h5" >"$WORK/dump"
expect_in "$WORK/dump" '(0): 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1'
h5dump -d /test/images -s 2,0 -c 1,3 -w 0 "$WORK/a.h5" >"$WORK/dump"
expect_in "$WORK/dump" '(2,0): 14, 15, 16'

# Gzipped files named one by one give the same data.
gz=$WORK/gz
mkdir -p "$gz"
for f in "$good"/*-ubyte; do gzip -c "$f" >"$gz/$(basename "$f").gz"; done
expect_status 0 "$NN_MPI_DATA" "$gz/train-images-idx3-ubyte.gz" "$gz/train-labels-idx1-ubyte.gz" \
    "$gz/t10k-images-idx3-ubyte.gz" "$gz/t10k-labels-idx1-ubyte.gz" "$WORK/b.h5"
h5diff "$WORK/a.h5" "$WORK/b.h5" /train /train >/dev/null || fail "gzipped input differs"
h5diff "$WORK/a.h5" "$WORK/b.h5" /test /test >/dev/null || fail "gzipped input differs"
# The directory form also finds .gz files.
expect_status 0 "$NN_MPI_DATA" "$gz" "$WORK/c.h5"

# bad_case NAME FILE-TO-BREAK MESSAGE: breaks one file of a copy of $good, expects failure.
bad_case() {
    local dir=$WORK/$1
    rm -rf "$dir"
    cp -r "$good" "$dir"
    rm -f "$dir"/*.gz
    "$2" "$dir"
    expect_status 1 timeout 10 "$NN_MPI_DATA" "$dir" "$WORK/$1.h5"
    expect_in "$WORK/err" "$3"
    [ ! -e "$WORK/$1.h5" ] || fail "$1: an output file was left behind"
    ls "$WORK" | grep -q '\.tmp\.' && fail "$1: a temporary file was left behind"
    true
}
bad_magic() { printf '\x00\x00\x08\x01' | dd of="$1/t10k-images-idx3-ubyte" conv=notrunc 2>/dev/null; }
truncated() { truncate -s -5 "$1/train-images-idx3-ubyte"; }
short_header() { head -c 6 "$good/train-labels-idx1-ubyte" >"$1/train-labels-idx1-ubyte"; }
extra() { printf 'x' >>"$1/t10k-labels-idx1-ubyte"; }
mismatch() { idx_labels "$1/train-labels-idx1-ubyte" 11; }
# huge: every file a header only, 0 images of 65536 x 65536 (the product overflowed an int)
huge() {
    for f in train t10k; do
        { printf '\x00\x00\x08\x03'; idx_be32 0; idx_be32 65536; idx_be32 65536; } >"$1/$f-images-idx3-ubyte"
        idx_labels "$1/$f-labels-idx1-ubyte" 0
    done
}
no_images() { idx_images "$1/t10k-images-idx3-ubyte" 0 4 5; idx_labels "$1/t10k-labels-idx1-ubyte" 0; }
no_labels() { idx_labels "$1/train-labels-idx1-ubyte" 0; }
fifo() { rm "$1/train-labels-idx1-ubyte"; mkfifo "$1/train-labels-idx1-ubyte"; }
fifo_gz() { rm "$1/t10k-images-idx3-ubyte"; mkfifo "$1/t10k-images-idx3-ubyte.gz"; }
directory() { rm "$1/t10k-labels-idx1-ubyte"; mkdir "$1/t10k-labels-idx1-ubyte"; }
bad_gzip() { head -c 30 "$good/train-images-idx3-ubyte.gz" >"$1/train-images-idx3-ubyte.gz"; rm "$1/train-images-idx3-ubyte"; }

bad_case magic bad_magic "t10k-images-idx3-ubyte: bad magic number 0x00000801, expected 0x00000803 (IDX images, unsigned bytes)"
bad_case truncated truncated "train-images-idx3-ubyte: truncated: header says 12 images (240 bytes of data), file has 235"
bad_case header short_header "train-labels-idx1-ubyte: truncated: header needs 8 bytes, file has 6"
bad_case extra extra "t10k-labels-idx1-ubyte: extra bytes after the last of the 3 labels"
bad_case mismatch mismatch "train split: 12 images but 11 labels"
bad_case gzip bad_gzip "train-images-idx3-ubyte.gz: truncated"
bad_case huge huge "train-images-idx3-ubyte: images of 65536 x 65536 = 4294967296 bytes each, more than the limit of 16777216"
bad_case no_images no_images "t10k-images-idx3-ubyte: holds no images (count 0)"
bad_case no_labels no_labels "train-labels-idx1-ubyte: holds no labels (count 0)"
bad_case fifo fifo "train-labels-idx1-ubyte: not a regular file"
bad_case fifo_gz fifo_gz "t10k-images-idx3-ubyte.gz: not a regular file"
bad_case directory directory "t10k-labels-idx1-ubyte: not a regular file"
expect_status 1 timeout 10 "$NN_MPI_DATA" /dev/zero "$good/train-labels-idx1-ubyte" \
    "$good/t10k-images-idx3-ubyte" "$good/t10k-labels-idx1-ubyte" "$WORK/device.h5"
expect_in "$WORK/err" "/dev/zero: not a regular file"
[ ! -e "$WORK/device.h5" ] || fail "device: an output file was left behind"
expect_status 1 "$NN_MPI_DATA" "$WORK/nonexistent" "$WORK/x.h5"
expect_in "$WORK/err" "nonexistent/train-images-idx3-ubyte.gz: cannot open: No such file or directory"
expect_status 2 "$NN_MPI_DATA" "$good"
expect_in "$WORK/err" "usage: nn-mpi-data"
finish converter_cli
