/* Fuzz target: the config parser and one --set override.
 * Input: config text, then optionally a NUL byte and a --set assignment (section.key=value).
 * Beyond not crashing: an accepted config formats to a text that parses back to the same
 * text (nn_config_format's canonical form is a fixed point); the checks between keys
 * (nn_config_check) run on it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_config.h"

static char *copy_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t text_len = nul ? (size_t)(nul - data) : size;
    char *text = copy_text(data, text_len);
    char *set = nul ? copy_text(nul + 1, size - text_len - 1) : NULL;
    char err[NN_ERR_LEN];
    NnConfig cfg;
    nn_config_defaults(&cfg);
    NnStatus status = nn_config_parse(text, "fuzz.ini", &cfg, err);
    if (status == NN_OK && set) status = nn_config_set(&cfg, set, err);
    if (status == NN_OK) {
        (void)nn_config_check(&cfg, err);
        size_t len = nn_config_format(&cfg, NULL, 0);
        char *first = malloc(len + 1), *second = NULL;
        if (!first) abort();
        nn_config_format(&cfg, first, len + 1);
        NnConfig again;
        nn_config_defaults(&again);
        if (nn_config_parse(first, "canonical.ini", &again, err) != NN_OK) {
            fprintf(stderr, "the canonical text does not parse: %s\n%s", err, first);
            abort();
        }
        size_t len2 = nn_config_format(&again, NULL, 0);
        second = malloc(len2 + 1);
        if (!second) abort();
        nn_config_format(&again, second, len2 + 1);
        if (len != len2 || strcmp(first, second) != 0) {
            fprintf(stderr, "the canonical text changes when parsed:\n%s---\n%s", first, second);
            abort();
        }
        free(first);
        free(second);
    }
    free(text);
    free(set);
    return 0;
}
