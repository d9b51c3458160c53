/* Text rendering of JSON documents: tables and key/value views. See output.h. */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"

char *out_scalar(json_t *v)
{
    char *s = NULL;
    if (!v || json_is_null(v))
        return strdup("-");
    switch (json_typeof(v)) {
    case JSON_STRING:
        return strdup(json_string_value(v));
    case JSON_INTEGER:
        if (asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0)
            return NULL;
        return s;
    case JSON_REAL:
        if (asprintf(&s, "%g", json_real_value(v)) < 0)
            return NULL;
        return s;
    case JSON_TRUE:
        return strdup("yes");
    case JSON_FALSE:
        return strdup("no");
    case JSON_ARRAY: {
        if (json_array_size(v) == 0)
            return strdup("-");
        size_t len = 0, i;
        json_t *e;
        char **parts = calloc(json_array_size(v), sizeof(char *));
        if (!parts)
            return NULL;
        json_array_foreach (v, i, e) {
            parts[i] = json_is_object(e) || json_is_array(e) ? strdup("...") : out_scalar(e);
            len += parts[i] ? strlen(parts[i]) + 1 : 1;
        }
        s = calloc(1, len + 1);
        for (i = 0; s && i < json_array_size(v); i++) {
            if (i)
                strcat(s, ",");
            if (parts[i])
                strcat(s, parts[i]);
        }
        for (i = 0; i < json_array_size(v); i++)
            free(parts[i]);
        free(parts);
        return s;
    }
    case JSON_OBJECT:
        return json_dumps(v, JSON_COMPACT);
    case JSON_NULL:
        break;
    }
    return NULL;
}

void out_table(FILE *f, json_t *rows, const struct out_column *cols, size_t n_cols)
{
    size_t n_rows = json_array_size(rows);
    char **cells = calloc((n_rows + 1) * n_cols, sizeof(char *));
    size_t *width = calloc(n_cols, sizeof(size_t));
    if (!cells || !width) {
        free(cells);
        free(width);
        return;
    }
    for (size_t c = 0; c < n_cols; c++) {
        cells[c] = strdup(cols[c].header);
        width[c] = strlen(cols[c].header);
    }
    for (size_t r = 0; r < n_rows; r++) {
        json_t *row = json_array_get(rows, r);
        for (size_t c = 0; c < n_cols; c++) {
            char *cell = cols[c].format ? cols[c].format(row) : out_scalar(json_object_get(row, cols[c].key));
            if (!cell)
                cell = strdup("-");
            cells[(r + 1) * n_cols + c] = cell;
            if (cell && strlen(cell) > width[c])
                width[c] = strlen(cell);
        }
    }
    for (size_t r = 0; r <= n_rows; r++) {
        for (size_t c = 0; c < n_cols; c++) {
            const char *cell = cells[r * n_cols + c] ? cells[r * n_cols + c] : "-";
            if (c + 1 == n_cols)
                fprintf(f, "%s", cell);
            else
                fprintf(f, "%-*s  ", (int)width[c], cell);
        }
        fputc('\n', f);
    }
    for (size_t i = 0; i < (n_rows + 1) * n_cols; i++)
        free(cells[i]);
    free(cells);
    free(width);
}

static bool is_scalar_array(json_t *v)
{
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e)
        if (json_is_object(e) || json_is_array(e))
            return false;
    return true;
}

static void print_value(FILE *f, const char *key, json_t *v, int indent);

static void print_members(FILE *f, json_t *obj, int indent)
{
    const char *key;
    json_t *v;
    json_object_foreach (obj, key, v)
        print_value(f, key, v, indent);
}

static void print_value(FILE *f, const char *key, json_t *v, int indent)
{
    if (json_is_object(v)) {
        fprintf(f, "%*s%s:\n", indent, "", key);
        print_members(f, v, indent + 2);
        return;
    }
    if (json_is_array(v) && !is_scalar_array(v)) {
        size_t i;
        json_t *e;
        fprintf(f, "%*s%s:\n", indent, "", key);
        json_array_foreach (v, i, e) {
            fprintf(f, "%*s- [%zu]\n", indent + 2, "", i);
            if (json_is_object(e))
                print_members(f, e, indent + 4);
            else
                print_value(f, "value", e, indent + 4);
        }
        return;
    }
    _cleanup_free_ char *s = out_scalar(v);
    fprintf(f, "%*s%s: %s\n", indent, "", key, s ? s : "-");
}

void out_object(FILE *f, json_t *obj)
{
    print_members(f, obj, 0);
}
