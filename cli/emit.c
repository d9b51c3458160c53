/* The one output path of every command: the library serializes a JSON document; --json prints that
 * text, otherwise it is parsed back and rendered as a table (or key/value view). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "util/macro.h"

struct dh_jsonw *cli_writer(struct cli_context *ctx)
{
    struct dh_jsonw *w = dh_jsonw_new(ctx->pretty);
    if (!w)
        cli_error("out of memory");
    return w;
}

int cli_emit(struct cli_context *ctx, struct dh_jsonw *w, const char *rows_key, const struct out_column *cols,
             size_t n_cols)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = dh_jsonw_finish(w, &text, &len);
    dh_jsonw_free(w);
    if (r < 0)
        return cli_error("cannot serialize the result: %s", strerror(-r)), EXIT_FAIL;
    if (ctx->json)
        return puts(text) < 0 ? EXIT_FAIL : 0;
    _cleanup_(json_decrefp) json_t *doc = json_loadb(text, len, 0, NULL);
    if (!doc)
        return cli_error("out of memory"), EXIT_FAIL;
    if (cols)
        out_table(stdout, json_object_get(doc, rows_key), cols, n_cols);
    else
        out_object(stdout, doc);
    return 0;
}

int cli_parse_seconds_ms(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || v < 0 || v > 86400)
        return -1;
    return (int)(v * 1000);
}
