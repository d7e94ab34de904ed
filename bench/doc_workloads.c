/* The document workloads (jsondb-bench's), run on one backend. */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "workloads.h"

const workload_info doc_workloads[DOC_WORKLOADS] = {
    [D_PUT] = {"put, transactions of 100", "docs/s", 0, 0, 3.0},
    [D_GET] = {"get by key", "ops/s", 0, 1, 2.0},
    [D_EMAIL] = {"unique index get (email)", "ops/s", 0, 1, 2.0},
    [D_AGE] = {"indexed range (age) limit 20", "queries/s", 0, 1, 2.0},
    [D_CITY] = {"compound (city) by age limit 20", "queries/s", 0, 1, 2.0},
    [D_AGE_KEYS] = {"ids of 6 ages from the age index", "queries/s", 0, 1, 5.0},
    [D_EACH_DOC] = {"every document, one at a time", "docs/s", 0, 1, 0},
    [D_SYNCED_PUT] = {"single put, synced", "docs/s", 0, 0, 0},
    [D_RSS] = {"peak RSS", "MiB", 1, 0, 0},
};

const char *const DOC_CITIES[8] = {"Oslo", "Lima", "Pune", "Kyiv", "Accra", "Quito", "Hanoi", "Perth"};

size_t make_doc(char *out, size_t cap, int64_t i) {
    const char *t1 = (const char *[]){"a", "b", "c", "d"}[i % 4], *t2 = (const char *[]){"x", "y"}[i % 2];
    return (size_t)snprintf(out, cap,
                            "{\"id\":%lld,\"email\":\"u%lld@example.com\",\"age\":%lld,\"city\":\"%s\","
                            "\"tags\":[\"%s\",\"%s\"]}",
                            (long long)i, (long long)i, (long long)(18 + (i * 7919) % 60), DOC_CITIES[i % 8], t1, t2);
}

/* Making the JSON text is outside the timer. */
double put_docs(const doc_backend *b, doc_store *s, int64_t from, size_t n, size_t per) {
    char buf[100][160], *docs[100];
    size_t lens[100];
    int64_t ids[100];
    double took = 0;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < per ? n - done : per;
        for (size_t i = 0; i < k; i++) {
            ids[i] = from + (int64_t)(done + i);
            lens[i] = make_doc(buf[i], sizeof buf[i], ids[i]);
            docs[i] = buf[i];
        }
        double t = now_secs();
        b->put_batch(s, docs, lens, ids, k);
        took += now_secs() - t;
        done += k;
    }
    return took;
}

void run_docs(const doc_backend *b, int part, const params *p, results *r) {
    fresh_dir(p->dir);
    if (part == 1) {
        doc_store *s = b->open(p->dir, 1);
        size_t n = scaled(p, 500);
        r->value[D_SYNCED_PUT] = (double)n / put_docs(b, s, 0, n, 1);
        b->close(s);
        return;
    }
    doc_store *s = b->open(p->dir, 0);
    r->value[D_PUT] = (double)p->docs / put_docs(b, s, 0, p->docs, 100);

    uint64_t rng = 12345;
    tally *t = r->tally;
    TIMED(r, D_GET, scaled(p, 200000), b->get(s, (int64_t)lcg_below(&rng, p->docs), &t[D_GET]));
    char email[64];
    TIMED(r, D_EMAIL, scaled(p, 200000), {
        snprintf(email, sizeof email, "u%llu@example.com", (unsigned long long)lcg_below(&rng, p->docs));
        b->by_email(s, email, &t[D_EMAIL]);
    });
    TIMED(r, D_AGE, scaled(p, 20000), {
        int lo = 18 + (int)lcg_below(&rng, 50);
        b->age_range(s, lo, lo + 6, 20, &t[D_AGE]); /* ages lo ..= lo + 5: the range is half-open */
    });
    TIMED(r, D_CITY, scaled(p, 5000), b->city_by_age(s, DOC_CITIES[lcg_below(&rng, 8)], 20, &t[D_CITY]));
    /* Ages take 60 values evenly: 6 of them hold a tenth of the documents. */
    TIMED(r, D_AGE_KEYS, scaled(p, 200), {
        int lo = 18 + (int)lcg_below(&rng, 55);
        b->age_keys(s, lo, lo + 5, &t[D_AGE_KEYS]);
    });
    TIMED(r, D_EACH_DOC, 3, b->each_doc(s, &t[D_EACH_DOC]));
    r->value[D_EACH_DOC] *= (double)p->docs;
    b->close(s);
}
