#include "nnmpi/nn_hash.h"

#include <stdio.h>
#include <string.h>

#define PRIME 0x100000001b3ULL /* FNV-1a's 64-bit prime */

uint64_t nn_hash_update(uint64_t h, const void *bytes, size_t size)
{
    const unsigned char *p = bytes;
    for (; size >= 8; size -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * PRIME; /* a bijection of h for each w: one word's change survives */
        h ^= h >> 29;
    }
    for (; size > 0; size--, p++) h = (h ^ *p) * PRIME;
    return h;
}

uint64_t nn_hash_finish(uint64_t h)
{
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

void nn_hash_hex(uint64_t h, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}
