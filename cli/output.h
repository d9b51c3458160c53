/* One output path for text and JSON (the iproute2/devlink idea): every command builds a JSON
 * document through the library; --json prints it, otherwise a table or a key/value view is
 * rendered from that same document, so the two can never disagree. */
#pragma once

#include <stdio.h>

#include <jansson.h>

struct out_column {
    const char *header;
    const char *key; /* top-level key of a row, printed as a scalar (used when format is NULL) */
    /* Returns a new string for the cell, or NULL for "-". */
    char *(*format)(json_t *row);
};

/* A table with one row per element of rows (an array of objects). */
void out_table(FILE *f, json_t *rows, const struct out_column *cols, size_t n_cols);
/* "key: value" lines, nested objects and arrays indented. */
void out_object(FILE *f, json_t *obj);
/* A scalar as text: null -> "-", booleans -> yes/no, arrays of scalars -> comma-joined.
 * Returns a new string. */
char *out_scalar(json_t *v);
