/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the safetensors header parser: a strict JSON reader for exactly the format's schema, and the
 * validation of every tensor's range against the data section.
 *
 * The header is read twice by the same code: a first pass validates the JSON and counts tensors and
 * metadata entries without storing anything, a second pass stores them into arrays sized by those
 * counts. So every allocation is bounded by the header's length N, itself checked against the file's
 * size before anything is allocated. The schema fixes the nesting (root object → tensor object → shape
 * array, or root → metadata object), so the reader needs no recursion and no depth counter. */
#include <stdlib.h>
#include <string.h>

#include "compute/halfconv.h"
#include "compute/safetensors_internal.h"
#include "sys/sys.h"

#define BAD CORDON_INVALID_ARGUMENT

/* Element sizes of the dtypes the format defines with whole bytes per element. The sub-byte ones (F4,
 * F6_*) and any name not listed are CORDON_UNSUPPORTED. */
typedef struct dtype_desc {
    const char *name;
    unsigned size;
    cordon_dtype dtype;
} dtype_desc;

static const dtype_desc dtypes[] = {
    {"F32", 4, CORDON_DTYPE_F32},      {"F16", 2, CORDON_DTYPE_F16},  {"BF16", 2, CORDON_DTYPE_BF16},
    {"F64", 8, (cordon_dtype)0},       {"BOOL", 1, (cordon_dtype)0},  {"U8", 1, (cordon_dtype)0},
    {"I8", 1, (cordon_dtype)0},        {"I16", 2, (cordon_dtype)0},   {"U16", 2, (cordon_dtype)0},
    {"I32", 4, (cordon_dtype)0},       {"U32", 4, (cordon_dtype)0},   {"I64", 8, (cordon_dtype)0},
    {"U64", 8, (cordon_dtype)0},       {"F8_E5M2", 1, (cordon_dtype)0}, {"F8_E4M3", 1, (cordon_dtype)0},
    {"F8_E8M0", 1, (cordon_dtype)0},   {"C64", 8, (cordon_dtype)0},
};

/* ---------------------------------------------------------------------------------------------------
 * UTF-8 */

/* Length of the strict UTF-8 sequence at s[0, n), or 0 when it is not one. */
static size_t utf8_seq(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0x80u) {
        return 1;
    }
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2u && c <= 0xDFu) {
        len = 2, cp = c & 0x1Fu, min = 0x80u;
    } else if (c >= 0xE0u && c <= 0xEFu) {
        len = 3, cp = c & 0x0Fu, min = 0x800u;
    } else if (c >= 0xF0u && c <= 0xF4u) {
        len = 4, cp = c & 0x07u, min = 0x10000u;
    } else {
        return 0; /* a continuation byte, an overlong lead (C0, C1) or beyond U+10FFFF (F5..FF) */
    }
    if (n < len) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0u) != 0x80u) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) {
        return 0;
    }
    return len;
}

bool cordon__utf8_valid(const uint8_t *s, size_t n, bool nul_ok) {
    size_t i = 0;
    while (i < n) {
        if (s[i] == 0 && !nul_ok) {
            return false;
        }
        size_t len = utf8_seq(s + i, n - i);
        if (len == 0) {
            return false;
        }
        i += len;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------------------
 * The JSON reader */

typedef struct parser {
    const uint8_t *s; /* the header's N bytes */
    size_t n;
    size_t pos;
    bool store; /* second pass: fill the table */
    cordon__st_table *t;
    size_t pool_used, pool_cap;
    size_t tensors, metas; /* counted (first pass) or filled (second) */
} parser;

static void skip_ws(parser *p) {
    while (p->pos < p->n) {
        uint8_t c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return;
        }
        p->pos++;
    }
}

/* Consumes c (after whitespace) if it is next. */
static bool eat(parser *p, uint8_t c) {
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

static int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Reads the 4 hex digits of a \u escape at p->pos. */
static bool hex4(parser *p, uint32_t *out) {
    if (p->n - p->pos < 4) {
        return false;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++) {
        int h = hex_value(p->s[p->pos + i]);
        if (h < 0) {
            return false;
        }
        v = (v << 4) | (uint32_t)h;
    }
    p->pos += 4;
    *out = v;
    return true;
}

/* Appends byte c to dst[0, cap) at *len (counting past cap without writing). */
static void put(char *dst, size_t cap, size_t *len, uint8_t c) {
    if (dst != NULL && *len < cap) {
        dst[*len] = (char)c;
    }
    (*len)++;
}

/* A JSON string at the next token: decoded into dst[0, cap) (bytes past cap are counted, not written),
 * its decoded length in *len_out. The decoded text is strict UTF-8 without NUL, and never longer than the
 * raw text minus its two quotes. */
static cordon_status parse_string(parser *p, char *dst, size_t cap, size_t *len_out) {
    if (!eat(p, '"')) {
        return BAD;
    }
    size_t len = 0;
    for (;;) {
        if (p->pos >= p->n) {
            return BAD;
        }
        uint8_t c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            *len_out = len;
            return CORDON_OK;
        }
        if (c < 0x20u) {
            return BAD; /* control characters must be escaped (NUL included) */
        }
        if (c != '\\') {
            size_t seq = utf8_seq(p->s + p->pos, p->n - p->pos);
            if (seq == 0) {
                return BAD;
            }
            for (size_t i = 0; i < seq; i++) {
                put(dst, cap, &len, p->s[p->pos + i]);
            }
            p->pos += seq;
            continue;
        }
        p->pos++;
        if (p->pos >= p->n) {
            return BAD;
        }
        uint8_t e = p->s[p->pos++];
        uint32_t cp;
        switch (e) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = 0x08u; break;
        case 'f': cp = 0x0Cu; break;
        case 'n': cp = 0x0Au; break;
        case 'r': cp = 0x0Du; break;
        case 't': cp = 0x09u; break;
        case 'u':
            if (!hex4(p, &cp)) {
                return BAD;
            }
            if (cp >= 0xDC00u && cp <= 0xDFFFu) {
                return BAD; /* a low surrogate without its high half */
            }
            if (cp >= 0xD800u && cp <= 0xDBFFu) {
                uint32_t lo;
                if (p->n - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    return BAD;
                }
                p->pos += 2;
                if (!hex4(p, &lo) || lo < 0xDC00u || lo > 0xDFFFu) {
                    return BAD;
                }
                cp = 0x10000u + ((cp - 0xD800u) << 10) + (lo - 0xDC00u);
            }
            if (cp == 0) {
                return BAD; /* names and values are C strings */
            }
            break;
        default:
            return BAD;
        }
        if (cp < 0x80u) {
            put(dst, cap, &len, (uint8_t)cp);
        } else if (cp < 0x800u) {
            put(dst, cap, &len, (uint8_t)(0xC0u | (cp >> 6)));
            put(dst, cap, &len, (uint8_t)(0x80u | (cp & 0x3Fu)));
        } else if (cp < 0x10000u) {
            put(dst, cap, &len, (uint8_t)(0xE0u | (cp >> 12)));
            put(dst, cap, &len, (uint8_t)(0x80u | ((cp >> 6) & 0x3Fu)));
            put(dst, cap, &len, (uint8_t)(0x80u | (cp & 0x3Fu)));
        } else {
            put(dst, cap, &len, (uint8_t)(0xF0u | (cp >> 18)));
            put(dst, cap, &len, (uint8_t)(0x80u | ((cp >> 12) & 0x3Fu)));
            put(dst, cap, &len, (uint8_t)(0x80u | ((cp >> 6) & 0x3Fu)));
            put(dst, cap, &len, (uint8_t)(0x80u | (cp & 0x3Fu)));
        }
    }
}

/* A string stored NUL-terminated in the pool (second pass) or only checked (first pass). */
static cordon_status pooled_string(parser *p, const char **out, size_t *len_out) {
    char *dst = NULL;
    size_t cap = 0;
    if (p->store) {
        dst = p->t->pool + p->pool_used;
        cap = p->pool_cap - p->pool_used;
    }
    size_t len = 0;
    cordon_status st = parse_string(p, dst, cap, &len);
    if (st != CORDON_OK) {
        return st;
    }
    if (p->store) {
        /* The first pass read the same bytes, and decoded text is shorter than its raw form: it fits. */
        if (len >= cap) {
            return BAD;
        }
        dst[len] = '\0';
        p->pool_used += len + 1;
        *out = dst;
    } else {
        *out = NULL;
    }
    *len_out = len;
    return CORDON_OK;
}

/* A short string compared against fixed words: decoded into buf (size 16), length in *len. */
static cordon_status short_string(parser *p, char buf[16], size_t *len) {
    cordon_status st = parse_string(p, buf, 15, len);
    if (st == CORDON_OK) {
        buf[*len < 15 ? *len : 15] = '\0';
    }
    return st;
}

static bool is_word(const char *buf, size_t len, const char *word) {
    return len == strlen(word) && memcmp(buf, word, len) == 0;
}

/* A non-negative integer without sign, fraction, exponent or leading zeros. */
static cordon_status parse_u64(parser *p, uint64_t *out) {
    skip_ws(p);
    if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9') {
        return BAD;
    }
    if (p->s[p->pos] == '0' && p->pos + 1 < p->n && p->s[p->pos + 1] >= '0' && p->s[p->pos + 1] <= '9') {
        return BAD;
    }
    uint64_t v = 0;
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        unsigned d = (unsigned)(p->s[p->pos] - '0');
        if (v > (UINT64_MAX - d) / 10u) {
            return CORDON_OVERFLOW;
        }
        v = v * 10u + d;
        p->pos++;
    }
    *out = v;
    return CORDON_OK;
}

/* {"dtype": "...", "shape": [...], "data_offsets": [b, e]} in any order, each key exactly once. */
static cordon_status parse_tensor(parser *p, cordon__st_entry *e) {
    if (!eat(p, '{')) {
        return BAD;
    }
    bool have_dtype = false, have_shape = false, have_offsets = false;
    cordon__st_entry v;
    memset(&v, 0, sizeof v);
    for (;;) {
        char key[16];
        size_t klen = 0;
        cordon_status st = short_string(p, key, &klen);
        if (st != CORDON_OK) {
            return st;
        }
        if (!eat(p, ':')) {
            return BAD;
        }
        if (is_word(key, klen, "dtype")) {
            if (have_dtype) {
                return BAD;
            }
            have_dtype = true;
            char name[16];
            size_t nlen = 0;
            st = short_string(p, name, &nlen);
            if (st != CORDON_OK) {
                return st;
            }
            const dtype_desc *found = NULL;
            for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
                if (is_word(name, nlen, dtypes[i].name)) {
                    found = &dtypes[i];
                }
            }
            if (found == NULL) {
                return CORDON_UNSUPPORTED;
            }
            v.dtype_name = found->name;
            v.elem_size = found->size;
            v.dtype = found->dtype;
        } else if (is_word(key, klen, "shape")) {
            if (have_shape) {
                return BAD;
            }
            have_shape = true;
            if (!eat(p, '[')) {
                return BAD;
            }
            if (!eat(p, ']')) {
                for (;;) {
                    uint64_t d = 0;
                    st = parse_u64(p, &d);
                    if (st != CORDON_OK) {
                        return st;
                    }
                    if (v.ndim == 4) {
                        return CORDON_UNSUPPORTED;
                    }
                    v.shape[v.ndim++] = d;
                    if (eat(p, ']')) {
                        break;
                    }
                    if (!eat(p, ',')) {
                        return BAD;
                    }
                }
            }
        } else if (is_word(key, klen, "data_offsets")) {
            if (have_offsets) {
                return BAD;
            }
            have_offsets = true;
            if (!eat(p, '[')) {
                return BAD;
            }
            st = parse_u64(p, &v.begin);
            if (st != CORDON_OK) {
                return st;
            }
            if (!eat(p, ',')) {
                return BAD;
            }
            st = parse_u64(p, &v.end);
            if (st != CORDON_OK) {
                return st;
            }
            if (!eat(p, ']')) {
                return BAD;
            }
        } else {
            return BAD;
        }
        if (eat(p, '}')) {
            break;
        }
        if (!eat(p, ',')) {
            return BAD;
        }
    }
    if (!have_dtype || !have_shape || !have_offsets) {
        return BAD;
    }
    for (unsigned i = v.ndim; i < 4; i++) {
        v.shape[i] = 1;
    }
    if (e != NULL) {
        v.name = e->name;
        *e = v;
    }
    return CORDON_OK;
}

/* {"key": "value", ...} */
static cordon_status parse_metadata(parser *p) {
    if (!eat(p, '{')) {
        return BAD;
    }
    if (eat(p, '}')) {
        return CORDON_OK;
    }
    for (;;) {
        const char *key = NULL, *value = NULL;
        size_t len = 0;
        cordon_status st = pooled_string(p, &key, &len);
        if (st != CORDON_OK) {
            return st;
        }
        if (!eat(p, ':')) {
            return BAD;
        }
        st = pooled_string(p, &value, &len);
        if (st != CORDON_OK) {
            return st;
        }
        if (p->store) {
            if (p->metas >= p->t->meta_count) {
                return BAD;
            }
            p->t->metas[p->metas].key = key;
            p->t->metas[p->metas].value = value;
        }
        p->metas++;
        if (eat(p, '}')) {
            return CORDON_OK;
        }
        if (!eat(p, ',')) {
            return BAD;
        }
    }
}

static cordon_status parse_root(parser *p) {
    /* The format requires the object to start at the header's first byte. */
    if (p->n == 0 || p->s[0] != '{') {
        return BAD;
    }
    p->pos = 1;
    bool have_meta = false;
    if (!eat(p, '}')) {
        for (;;) {
            /* Decoded into the pool (second pass) or a short buffer (first pass: "__metadata__" is all
             * that matters there). */
            const char *key = NULL;
            char local[16];
            size_t klen = 0;
            size_t mark = p->pool_used;
            cordon_status st;
            bool is_meta;
            if (p->store) {
                st = pooled_string(p, &key, &klen);
                is_meta = st == CORDON_OK && is_word(key, klen, "__metadata__");
            } else {
                st = short_string(p, local, &klen);
                is_meta = st == CORDON_OK && is_word(local, klen, "__metadata__");
            }
            if (st != CORDON_OK) {
                return st;
            }
            if (!eat(p, ':')) {
                return BAD;
            }
            if (is_meta) {
                if (have_meta) {
                    return BAD; /* a duplicate key */
                }
                have_meta = true;
                p->pool_used = mark;
                st = parse_metadata(p);
            } else {
                cordon__st_entry *e = NULL;
                if (p->store) {
                    if (p->tensors >= p->t->count) {
                        return BAD;
                    }
                    e = &p->t->entries[p->tensors];
                    e->name = key;
                }
                st = parse_tensor(p, e);
                p->tensors++;
            }
            if (st != CORDON_OK) {
                return st;
            }
            if (eat(p, '}')) {
                break;
            }
            if (!eat(p, ',')) {
                return BAD;
            }
        }
    }
    skip_ws(p); /* whitespace padding after the object is allowed, nothing else */
    return p->pos == p->n ? CORDON_OK : BAD;
}

/* ---------------------------------------------------------------------------------------------------
 * Validation of the ranges */

static int by_range(const void *x, const void *y) {
    const cordon__st_entry *a = x, *b = y;
    if (a->begin != b->begin) {
        return a->begin < b->begin ? -1 : 1;
    }
    if (a->end != b->end) {
        return a->end < b->end ? -1 : 1;
    }
    return 0;
}

static int by_name(const void *x, const void *y) {
    const cordon__st_entry *a = x, *b = y;
    return strcmp(a->name, b->name);
}

static int by_key(const void *x, const void *y) {
    const cordon__st_meta *a = x, *b = y;
    return strcmp(a->key, b->key);
}

/* Elements and byte size of an entry, overflow-checked; its range against the data section. */
static cordon_status check_entry(cordon__st_entry *e, uint64_t data_len) {
    uint64_t n = 1;
    bool empty = false;
    for (unsigned i = 0; i < e->ndim; i++) {
        empty = empty || e->shape[i] == 0;
    }
    if (empty) {
        n = 0;
    } else {
        for (unsigned i = 0; i < e->ndim; i++) {
            if (n > UINT64_MAX / e->shape[i]) {
                return CORDON_OVERFLOW;
            }
            n *= e->shape[i];
        }
    }
    if (n > UINT64_MAX / e->elem_size) {
        return CORDON_OVERFLOW;
    }
    e->elements = n;
    uint64_t bytes = n * e->elem_size;
    if (e->begin > e->end || e->end > data_len || e->end - e->begin != bytes) {
        return BAD;
    }
    return CORDON_OK;
}

void cordon__safetensors_table_free(cordon__st_table *t) {
    if (t == NULL) {
        return;
    }
    cordon__sys_free(t->entries);
    cordon__sys_free(t->metas);
    cordon__sys_free(t->pool);
    memset(t, 0, sizeof *t);
}

cordon_status cordon__safetensors_parse(const uint8_t *image, size_t len, cordon__st_table *out) {
    if (image == NULL || out == NULL) {
        return BAD;
    }
    if (len < 8) {
        return BAD;
    }
    uint64_t n = 0;
    for (unsigned i = 0; i < 8; i++) {
        n |= (uint64_t)image[i] << (8u * i);
    }
    if (n > CORDON_SAFETENSORS_MAX_HEADER || n > (uint64_t)len - 8u) {
        return BAD;
    }
    parser p;
    memset(&p, 0, sizeof p);
    p.s = image + 8;
    p.n = (size_t)n;
    cordon_status st = parse_root(&p);
    if (st != CORDON_OK) {
        return st;
    }
    /* Everything below is bounded by N: the counts come from a header that fits in the file. */
    cordon__st_table t;
    memset(&t, 0, sizeof t);
    t.data = image + 8 + n;
    t.data_len = (uint64_t)len - 8u - n;
    t.count = p.tensors;
    t.meta_count = p.metas;
    st = cordon__sys_alloc(p.n + 1u, (void **)&t.pool);
    if (st == CORDON_OK && t.count > 0) {
        st = cordon__sys_alloc(t.count * sizeof(cordon__st_entry), (void **)&t.entries);
    }
    if (st == CORDON_OK && t.meta_count > 0) {
        st = cordon__sys_alloc(t.meta_count * sizeof(cordon__st_meta), (void **)&t.metas);
    }
    if (st == CORDON_OK) {
        parser q;
        memset(&q, 0, sizeof q);
        q.s = p.s;
        q.n = p.n;
        q.store = true;
        q.t = &t;
        q.pool_cap = p.n + 1u;
        st = parse_root(&q);
        if (st == CORDON_OK && (q.tensors != t.count || q.metas != t.meta_count)) {
            st = BAD; /* unreachable: both passes read the same bytes */
        }
    }
    for (size_t i = 0; i < t.count && st == CORDON_OK; i++) {
        st = check_entry(&t.entries[i], t.data_len);
    }
    if (st == CORDON_OK) {
        /* In order of ranges, each must start where the previous ended, and the last end the data
         * section: no overlap, no gap, nothing unclaimed. */
        if (t.count > 0) {
            qsort(t.entries, t.count, sizeof(cordon__st_entry), by_range);
        }
        uint64_t at = 0;
        for (size_t i = 0; i < t.count && st == CORDON_OK; i++) {
            if (t.entries[i].begin != at) {
                st = BAD;
            }
            at = t.entries[i].end;
        }
        if (st == CORDON_OK && at != t.data_len) {
            st = BAD;
        }
    }
    if (st == CORDON_OK && t.count > 0) {
        qsort(t.entries, t.count, sizeof(cordon__st_entry), by_name);
        for (size_t i = 1; i < t.count && st == CORDON_OK; i++) {
            if (strcmp(t.entries[i - 1].name, t.entries[i].name) == 0) {
                st = BAD;
            }
        }
    }
    if (st == CORDON_OK && t.meta_count > 0) {
        qsort(t.metas, t.meta_count, sizeof(cordon__st_meta), by_key);
        for (size_t i = 1; i < t.meta_count && st == CORDON_OK; i++) {
            if (strcmp(t.metas[i - 1].key, t.metas[i].key) == 0) {
                st = BAD;
            }
        }
    }
    if (st != CORDON_OK) {
        cordon__safetensors_table_free(&t);
        return st;
    }
    *out = t;
    return CORDON_OK;
}

size_t cordon__safetensors_lookup(const cordon__st_table *t, const char *name) {
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2u;
        int c = strcmp(t->entries[mid].name, name);
        if (c == 0) {
            return mid;
        }
        if (c < 0) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return SIZE_MAX;
}

const char *cordon__safetensors_meta_lookup(const cordon__st_table *t, const char *key) {
    size_t lo = 0, hi = t->meta_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2u;
        int c = strcmp(t->metas[mid].key, key);
        if (c == 0) {
            return t->metas[mid].value;
        }
        if (c < 0) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------------------
 * Conversion */

static uint32_t le32(const uint8_t *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static float element(const cordon__st_entry *e, const uint8_t *src, uint64_t i) {
    uint32_t u;
    if (e->dtype == CORDON_DTYPE_F32) {
        u = le32(src + 4u * i);
    } else {
        const uint8_t *b = src + 2u * i;
        uint16_t h = (uint16_t)(b[0] | b[1] << 8);
        u = e->dtype == CORDON_DTYPE_F16 ? cordon__f16_to_f32_bits(h) : cordon__bf16_to_f32_bits(h);
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static bool host_little_endian(void) {
    uint32_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

void cordon__safetensors_convert(const cordon__st_table *t, const cordon__st_entry *e, float *dst, bool transpose) {
    const uint8_t *src = t->data + e->begin;
    if (!transpose && e->dtype == CORDON_DTYPE_F32 && host_little_endian()) {
        memcpy(dst, src, (size_t)(e->end - e->begin)); /* the file's bytes are this host's floats */
        return;
    }
    if (transpose) {
        uint64_t rows = e->shape[0], cols = e->shape[1];
        for (uint64_t r = 0; r < rows; r++) {
            for (uint64_t c = 0; c < cols; c++) {
                dst[c * rows + r] = element(e, src, r * cols + c);
            }
        }
        return;
    }
    for (uint64_t i = 0; i < e->elements; i++) {
        dst[i] = element(e, src, i);
    }
}

void cordon__safetensors_convert_bf16(const cordon__st_table *t, const cordon__st_entry *e, uint16_t *dst) {
    const uint8_t *src = t->data + e->begin;
    for (uint64_t i = 0; i < e->elements; i++) {
        if (e->dtype == CORDON_DTYPE_BF16) {
            const uint8_t *b = src + 2u * i;
            dst[i] = (uint16_t)(b[0] | b[1] << 8); /* the file's bits, NaN payloads and all */
        } else {
            dst[i] = cordon__f32_to_bf16(element(e, src, i));
        }
    }
}
