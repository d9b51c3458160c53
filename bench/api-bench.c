/* Load generator for dpuhostd over its Unix socket (libcurl, one connection per client thread, kept
 * alive). Usage:
 *   api-bench SOCKET claims POOL CLIENTS SECONDS   each client claims one function (a fresh
 *       request_id each time) and releases it, in a loop; prints claims per second and latencies
 *   api-bench SOCKET get PATH COUNT               one client GETs PATH COUNT times; prints latencies
 *   api-bench SOCKET load PATH CLIENTS SECONDS    CLIENTS clients GET PATH in a loop: requests per
 *       second (the transport's own ceiling, next to the claims)
 * Output: "key value" lines. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct buf {
    char *p;
    size_t n;
};

static size_t collect(char *d, size_t size, size_t nmemb, void *userdata)
{
    struct buf *b = userdata;
    size_t n = size * nmemb;
    b->p = realloc(b->p, b->n + n + 1);
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = '\0';
    return n;
}

static const char *sock;

static long request(CURL *c, const char *method, const char *path, const char *body, struct buf *out)
{
    char url[512];
    snprintf(url, sizeof(url), "http://localhost%s", path);
    out->n = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L); /* no body; the method follows */
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (curl_easy_perform(c) != CURLE_OK)
        return 0;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static CURL *client(struct buf *b, struct curl_slist *h)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    return c;
}

struct lat {
    double *v;
    size_t n, cap;
};

static void add(struct lat *l, double x)
{
    if (l->n == l->cap)
        l->v = realloc(l->v, (l->cap = l->cap ? 2 * l->cap : 4096) * sizeof(double));
    l->v[l->n++] = x;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(struct lat *l, double p)
{
    if (!l->n)
        return 0;
    return l->v[(size_t)((double)(l->n - 1) * p)];
}

struct worker {
    int index;
    const char *pool; /* claims: the pool; load: the path */
    double start, measure_from, end;
    struct lat claim, release, cycle;
    long errors;
    long done;
};

static void *claims(void *userdata)
{
    struct worker *w = userdata;
    struct buf b = {0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    CURL *c = client(&b, h);
    char body[256], path[128];
    for (long i = 0; now_ms() < w->end; i++) {
        snprintf(body, sizeof(body),
                 "{\"owner\": \"bench-%d\", \"pool\": \"%s\", \"request_id\": \"%d-%ld\"}", w->index, w->pool,
                 w->index, i);
        double a = now_ms();
        long s = request(c, "POST", "/v1/claims", body, &b);
        double m = now_ms();
        if (s != 201) {
            w->errors++;
            continue;
        }
        json_t *doc = json_loadb(b.p, b.n, 0, NULL);
        snprintf(path, sizeof(path), "/v1/claims/%s", json_string_value(json_object_get(doc, "id")));
        json_decref(doc);
        s = request(c, "DELETE", path, NULL, &b);
        double z = now_ms();
        if (s != 200) {
            w->errors++;
            continue;
        }
        if (a >= w->measure_from) {
            add(&w->claim, m - a);
            add(&w->release, z - m);
            add(&w->cycle, z - a);
            w->done++;
        }
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(b.p);
    return NULL;
}

static void *load(void *userdata)
{
    struct worker *w = userdata;
    struct buf b = {0};
    CURL *c = client(&b, NULL);
    while (now_ms() < w->end) {
        double a = now_ms();
        if (request(c, "GET", w->pool, NULL, &b) != 200) {
            w->errors++;
            continue;
        }
        if (a >= w->measure_from) {
            add(&w->cycle, now_ms() - a);
            w->done++;
        }
    }
    curl_easy_cleanup(c);
    free(b.p);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s SOCKET claims POOL CLIENTS SECONDS | SOCKET get PATH COUNT\n", argv[0]);
        return 2;
    }
    sock = argv[1];
    curl_global_init(CURL_GLOBAL_ALL);
    if (strcmp(argv[2], "get") == 0) {
        int count = atoi(argv[4]);
        struct buf b = {0};
        CURL *c = client(&b, NULL);
        struct lat l = {0};
        size_t bytes = 0;
        for (int i = 0; i < count + 20; i++) {
            double a = now_ms();
            if (request(c, "GET", argv[3], NULL, &b) != 200)
                return fprintf(stderr, "GET %s failed\n", argv[3]), 1;
            if (i >= 20) /* warm-up */
                add(&l, now_ms() - a);
            bytes = b.n;
        }
        qsort(l.v, l.n, sizeof(double), cmp);
        printf("requests %zu\nbytes %zu\np50_ms %.2f\np99_ms %.2f\nmax_ms %.2f\n", l.n, bytes, pct(&l, 0.5),
               pct(&l, 0.99), l.v[l.n - 1]);
        curl_easy_cleanup(c);
        return 0;
    }
    int clients = atoi(argv[4]);
    double seconds = argc > 5 ? atof(argv[5]) : 10, warm = 1000;
    struct worker *w = calloc((size_t)clients, sizeof(*w));
    pthread_t *th = calloc((size_t)clients, sizeof(*th));
    double t0 = now_ms();
    for (int i = 0; i < clients; i++) {
        w[i] = (struct worker){.index = i,
                               .pool = argv[3],
                               .start = t0,
                               .measure_from = t0 + warm,
                               .end = t0 + warm + seconds * 1000};
        pthread_create(&th[i], NULL, strcmp(argv[2], "load") == 0 ? load : claims, &w[i]);
    }
    struct lat claim = {0}, release = {0}, cycle = {0};
    long done = 0, errors = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        for (size_t k = 0; k < w[i].cycle.n; k++) {
            if (k < w[i].claim.n) {
                add(&claim, w[i].claim.v[k]);
                add(&release, w[i].release.v[k]);
            }
            add(&cycle, w[i].cycle.v[k]);
        }
        done += w[i].done;
        errors += w[i].errors;
    }
    if (strcmp(argv[2], "load") == 0) {
        qsort(cycle.v, cycle.n, sizeof(double), cmp);
        printf("clients %d\nrequests %ld\nerrors %ld\nrequests_per_second %.0f\np50_ms %.2f\np99_ms %.2f\n",
               clients, done, errors, (double)done / seconds, pct(&cycle, 0.5), pct(&cycle, 0.99));
        return errors ? 1 : 0;
    }
    qsort(claim.v, claim.n, sizeof(double), cmp);
    qsort(release.v, release.n, sizeof(double), cmp);
    qsort(cycle.v, cycle.n, sizeof(double), cmp);
    printf("clients %d\nseconds %.1f\nclaims %ld\nerrors %ld\nclaims_per_second %.0f\n", clients, seconds,
           done, errors, (double)done / seconds);
    printf("claim_p50_ms %.2f\nclaim_p99_ms %.2f\nrelease_p50_ms %.2f\nrelease_p99_ms %.2f\ncycle_p99_ms "
           "%.2f\n",
           pct(&claim, 0.5), pct(&claim, 0.99), pct(&release, 0.5), pct(&release, 0.99), pct(&cycle, 0.99));
    return errors ? 1 : 0;
}
