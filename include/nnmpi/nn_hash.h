/* A fast 64-bit hash for checksums and determinism audits. Not cryptographic: it detects
 * damage and differences, not tampering. Any change of a single 8-byte word changes it. */
#ifndef NNMPI_NN_HASH_H
#define NNMPI_NN_HASH_H

#include <stddef.h>
#include <stdint.h>

#define NN_HASH_START 0x6a09e667f3bcc909ULL

/* Continues hash h over bytes; start with NN_HASH_START, chain calls to hash several
 * buffers, then pass the result through nn_hash_finish. */
uint64_t nn_hash_update(uint64_t h, const void *bytes, size_t size);
uint64_t nn_hash_finish(uint64_t h);

/* Writes h as 16 lowercase hex digits and a NUL into out[17]. */
void nn_hash_hex(uint64_t h, char out[17]);

#endif
