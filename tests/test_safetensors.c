/* SPDX-License-Identifier: Apache-2.0 */
/* Tests: safetensors files (include/cordon/safetensors.h), the f16/bf16 conversions, PEFT adapters.
 * The committed files under tests/data/ were written by tests/make_safetensors_testdata.py following the
 * published layout; the expected values below are written out independently of that script. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compute/halfconv.h"
#include "compute/safetensors_internal.h"
#include "cordon/cordon.h"
#include "cordon/safetensors.h"
#include "harness.h"
#include "sys/fault.h"

/* ---------------------------------------------------------------------------------------------------
 * Helpers */

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* tests/data/<name>, located from this source file's path. */
static void data_path(const char *name, char *out, size_t len) {
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash != NULL ? (int)(slash - __FILE__) : 1;
    snprintf(out, len, "%.*s/data/%s", dir, slash != NULL ? __FILE__ : ".", name);
}

/* A file of tests/data/, opened. */
static cordon_safetensors open_data(const char *name) {
    char path[512];
    data_path(name, path, sizeof path);
    cordon_safetensors f;
    CHECK_OK(cordon_safetensors_open(path, &f));
    return f;
}

static char scratch_dir[64];

/* A fresh scratch file path in a private directory (removed by cleanup_scratch). */
static void scratch_path(const char *name, char *out, size_t len) {
    if (scratch_dir[0] == '\0') {
        snprintf(scratch_dir, sizeof scratch_dir, "/tmp/cordon-st-XXXXXX");
        CHECK(mkdtemp(scratch_dir) != NULL);
    }
    snprintf(out, len, "%s/%s", scratch_dir, name);
}

static void write_file(const char *path, const void *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(len == 0 || fwrite(bytes, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    size_t n = fread(buf, 1, cap, f);
    CHECK(fclose(f) == 0);
    return n;
}

static cordon_device cpu(void) {
    cordon_device_options opt;
    cordon_device_options_init(&opt);
    opt.threads = 1;
    opt.storage_bytes = UINT64_C(64) << 20;
    cordon_device d;
    CHECK_OK(cordon_device_create(&opt, &d));
    return d;
}

/* A file image: N = strlen(json), the header, then data_len data bytes (value i & 0xFF). */
static size_t make_image(uint8_t *buf, size_t cap, const char *json, size_t data_len) {
    size_t n = strlen(json);
    CHECK(8 + n + data_len <= cap);
    for (unsigned i = 0; i < 8; i++) {
        buf[i] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    memcpy(buf + 8, json, n);
    for (size_t i = 0; i < data_len; i++) {
        buf[8 + n + i] = (uint8_t)i;
    }
    return 8 + n + data_len;
}

/* The status of parsing a header with data_len data bytes (the table is freed). */
static cordon_status parse_json(const char *json, size_t data_len) {
    static uint8_t buf[8192];
    size_t len = make_image(buf, sizeof buf, json, data_len);
    cordon__st_table t;
    cordon_status st = cordon__safetensors_parse(buf, len, &t);
    if (st == CORDON_OK) {
        cordon__safetensors_table_free(&t);
    }
    return st;
}

static void read_tensor(cordon_tensor t, float *out, size_t n) {
    CHECK_OK(cordon_tensor_read(t, out, n * sizeof(float)));
}

/* ---------------------------------------------------------------------------------------------------
 * f16 / bf16 conversions: every bit pattern against the IEEE formula evaluated with ldexp */

/* The value of a 16-bit binary format with ebits exponent bits and fbits fraction bits. */
static double ieee16_reference(uint16_t h, int ebits, int fbits) {
    int emax = (1 << ebits) - 1, bias = (1 << (ebits - 1)) - 1;
    int sign = h >> 15, exp = (h >> fbits) & emax, frac = h & ((1 << fbits) - 1);
    double v;
    if (exp == 0) {
        v = ldexp((double)frac, 1 - bias - fbits);
    } else if (exp == emax) {
        v = frac == 0 ? INFINITY : NAN;
    } else {
        v = ldexp(1.0 + ldexp((double)frac, -fbits), exp - bias);
    }
    return sign ? -v : v;
}

static double f16_reference(uint16_t h) {
    return ieee16_reference(h, 5, 10);
}

static double bf16_reference(uint16_t h) {
    return ieee16_reference(h, 8, 7);
}

TEST(f16_to_f32_matches_ieee_formula_for_all_65536_patterns) {
    unsigned subnormals = 0, nans = 0;
    for (uint32_t p = 0; p <= 0xFFFFu; p++) {
        uint16_t h = (uint16_t)p;
        float got = cordon__f16_to_f32(h);
        double want = f16_reference(h);
        if (isnan(want)) {
            nans++;
            CHECK_MSG(isnan(got), "0x%04x: not NaN", p);
            CHECK_MSG((signbit(got) != 0) == (p >> 15 != 0), "0x%04x: NaN sign", p);
            /* the payload stays (shifted to the top), so a signalling NaN stays signalling */
            CHECK_MSG(((bits_of(got) >> 13) & 0x3FFu) == (p & 0x3FFu), "0x%04x: NaN payload", p);
            continue;
        }
        if ((p & 0x7C00u) == 0 && (p & 0x3FFu) != 0) {
            subnormals++;
        }
        CHECK_MSG(bits_of(got) == bits_of((float)want), "0x%04x: got %a want %a", p, (double)got, want);
    }
    CHECK_EQ_U64(subnormals, 2 * 1023);
    CHECK_EQ_U64(nans, 2 * 1023);
}

TEST(bf16_to_f32_matches_ieee_formula_for_all_65536_patterns) {
    for (uint32_t p = 0; p <= 0xFFFFu; p++) {
        uint16_t h = (uint16_t)p;
        float got = cordon__bf16_to_f32(h);
        double want = bf16_reference(h);
        if (isnan(want)) {
            CHECK_MSG(isnan(got) && (bits_of(got) >> 16) == p, "0x%04x: NaN not kept", p);
            continue;
        }
        CHECK_MSG(bits_of(got) == bits_of((float)want), "0x%04x: got %a want %a", p, (double)got, want);
    }
}

TEST(f32_to_f16_and_bf16_round_trip_every_pattern) {
    for (uint32_t p = 0; p <= 0xFFFFu; p++) {
        uint16_t h = (uint16_t)p;
        float f = cordon__f16_to_f32(h);
        float b = cordon__bf16_to_f32(h);
        if (isnan(f)) {
            uint16_t back = cordon__f32_to_f16(f);
            CHECK_MSG((back & 0x7C00u) == 0x7C00u && (back & 0x3FFu) != 0, "0x%04x: f16 NaN lost", p);
            CHECK_MSG((back & 0x8000u) == (p & 0x8000u), "0x%04x: f16 NaN sign", p);
        } else {
            CHECK_MSG(cordon__f32_to_f16(f) == h, "0x%04x: f16 round trip", p);
        }
        if (isnan(b)) {
            uint16_t back = cordon__f32_to_bf16(b);
            CHECK_MSG((back & 0x7F80u) == 0x7F80u && (back & 0x7Fu) != 0, "0x%04x: bf16 NaN lost", p);
        } else {
            CHECK_MSG(cordon__f32_to_bf16(b) == h, "0x%04x: bf16 round trip", p);
        }
    }
}

/* Between each pair of adjacent non-negative finite values of a 16-bit format: the exact midpoint goes
 * to the one with an even pattern, and the f32 values just beside it go to the nearer one. */
static void check_midpoints(float (*widen)(uint16_t), uint16_t (*narrow)(float), uint16_t last_finite) {
    for (uint32_t p = 0; p < last_finite; p++) {
        double lo = (double)widen((uint16_t)p), hi = (double)widen((uint16_t)(p + 1));
        float mid = (float)((lo + hi) / 2.0);
        CHECK_MSG((double)mid == (lo + hi) / 2.0, "midpoint not exact in f32 at 0x%04x", p);
        uint16_t even = (p & 1u) == 0 ? (uint16_t)p : (uint16_t)(p + 1);
        CHECK_MSG(narrow(mid) == even, "0x%04x: midpoint went to 0x%04x", p, narrow(mid));
        CHECK_MSG(narrow(nextafterf(mid, INFINITY)) == p + 1, "0x%04x: above midpoint", p);
        CHECK_MSG(narrow(nextafterf(mid, 0.0f)) == p, "0x%04x: below midpoint", p);
        CHECK_MSG(narrow(-mid) == (uint16_t)(even | 0x8000u), "0x%04x: negative midpoint", p);
    }
}

TEST(f32_to_f16_rounds_to_nearest_even_including_subnormals_and_overflow) {
    check_midpoints(cordon__f16_to_f32, cordon__f32_to_f16, 0x7BFFu);
    /* Past the largest finite value: 65504 + half an ulp (65520) ties to the even 2^16, i.e. infinity. */
    CHECK_EQ_U64(cordon__f32_to_f16(65519.996f), 0x7BFFu);
    CHECK_EQ_U64(cordon__f32_to_f16(65520.0f), 0x7C00u);
    CHECK_EQ_U64(cordon__f32_to_f16(1e30f), 0x7C00u);
    CHECK_EQ_U64(cordon__f32_to_f16(-INFINITY), 0xFC00u);
    /* Below half the smallest subnormal: zero, sign kept; f32 subnormals too. */
    CHECK_EQ_U64(cordon__f32_to_f16(ldexpf(1.0f, -25)), 0x0000u);
    CHECK_EQ_U64(cordon__f32_to_f16(nextafterf(ldexpf(1.0f, -25), 1.0f)), 0x0001u);
    CHECK_EQ_U64(cordon__f32_to_f16(-float_of(1)), 0x8000u);
}

TEST(f32_to_bf16_rounds_to_nearest_even_including_subnormals_and_overflow) {
    check_midpoints(cordon__bf16_to_f32, cordon__f32_to_bf16, 0x7F7Fu);
    CHECK_EQ_U64(cordon__f32_to_bf16(float_of(0x7F7FFFFFu)), 0x7F80u); /* FLT_MAX rounds to infinity */
    CHECK_EQ_U64(cordon__f32_to_bf16(float_of(0x7F7F7FFFu)), 0x7F7Fu);
    CHECK_EQ_U64(cordon__f32_to_bf16(float_of(0xFFC00001u)), 0xFFC0u);
    CHECK_EQ_U64(cordon__f32_to_bf16(float_of(0x7F800001u)), 0x7FC0u); /* a NaN never becomes infinity */
}

/* ---------------------------------------------------------------------------------------------------
 * Reading the committed files */

TEST(opens_reference_file_and_lists_tensors_in_name_order) {
    cordon_safetensors f = open_data("st_f32.safetensors");
    size_t n = 0;
    CHECK_OK(cordon_safetensors_count(f, &n));
    CHECK_EQ_U64(n, 4);
    const char *names[4] = {"bias", "caf\xc3\xa9", "scalar", "weight"};
    cordon_safetensors_entry e;
    for (size_t i = 0; i < 4; i++) {
        CHECK_OK(cordon_safetensors_entry_at(f, i, &e));
        CHECK_MSG(strcmp(e.name, names[i]) == 0, "entry %zu is %s", i, e.name);
        CHECK(strcmp(e.dtype_name, "F32") == 0 && e.dtype == CORDON_DTYPE_F32);
    }
    CHECK_OK(cordon_safetensors_entry_at(f, 3, &e));
    CHECK_EQ_U64(e.ndim, 2);
    CHECK_EQ_U64(e.shape[0], 2);
    CHECK_EQ_U64(e.shape[1], 3);
    CHECK_EQ_U64(e.elements, 6);
    CHECK_EQ_U64(e.data_end - e.data_begin, 24);
    CHECK_OK(cordon_safetensors_entry_at(f, 2, &e));
    CHECK_EQ_U64(e.ndim, 0);
    CHECK_EQ_U64(e.elements, 1);
    CHECK_STATUS(cordon_safetensors_entry_at(f, 4, &e), CORDON_INVALID_ARGUMENT);
    size_t idx = 0;
    CHECK_OK(cordon_safetensors_find(f, "weight", &idx));
    CHECK_EQ_U64(idx, 3);
    CHECK_OK(cordon_safetensors_find(f, "absent", &idx));
    CHECK(idx == CORDON_SAFETENSORS_ABSENT);
    CHECK_OK(cordon_safetensors_close(f));
}

TEST(metadata_values_are_decoded_from_json_escapes) {
    cordon_safetensors f = open_data("st_f32.safetensors");
    size_t n = 0;
    CHECK_OK(cordon_safetensors_metadata_count(f, &n));
    CHECK_EQ_U64(n, 2);
    const char *key = NULL, *value = NULL;
    CHECK_OK(cordon_safetensors_metadata_at(f, 0, &key, &value));
    CHECK(strcmp(key, "format") == 0 && strcmp(value, "pt") == 0);
    CHECK_OK(cordon_safetensors_metadata_get(f, "note", &value));
    /* "na\u00efve \ud83d\ude00" in the file: U+00EF and a surrogate pair for U+1F600 */
    CHECK(value != NULL && strcmp(value, "na\xc3\xafve \xf0\x9f\x98\x80") == 0);
    CHECK_OK(cordon_safetensors_metadata_get(f, "missing", &value));
    CHECK(value == NULL);
    CHECK_OK(cordon_safetensors_close(f));
}

TEST(loads_f32_tensors_exactly) {
    cordon_device d = cpu();
    cordon_safetensors f = open_data("st_f32.safetensors");
    cordon_tensor w, s;
    CHECK_OK(cordon_safetensors_load(f, "weight", d, &w));
    cordon_tensor_info info;
    CHECK_OK(cordon_tensor_info_get(w, &info));
    CHECK(info.ndim == 2 && info.shape[0] == 2 && info.shape[1] == 3 && info.dtype == CORDON_DTYPE_F32);
    float got[6];
    read_tensor(w, got, 6);
    const float want[6] = {0.5f, -1.25f, 2.0f, 3.75f, -0.0f, 1e-3f};
    for (int i = 0; i < 6; i++) {
        CHECK_MSG(bits_of(got[i]) == bits_of(want[i]), "element %d: %a", i, (double)got[i]);
    }
    CHECK_OK(cordon_safetensors_load(f, "scalar", d, &s)); /* shape [] loads as (1) */
    CHECK_OK(cordon_tensor_info_get(s, &info));
    CHECK(info.ndim == 1 && info.shape[0] == 1);
    read_tensor(s, got, 1);
    CHECK(got[0] == 7.0f);
    cordon_tensor u;
    CHECK_OK(cordon_safetensors_load(f, "caf\xc3\xa9", d, &u));
    read_tensor(u, got, 1);
    CHECK(got[0] == 42.0f);
    CHECK_STATUS(cordon_safetensors_load(f, "nope", d, &u), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_safetensors_close(f));
    /* Loaded tensors do not depend on the file. */
    read_tensor(w, got, 6);
    CHECK(got[3] == 3.75f);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(loads_f16_and_bf16_converted_exactly) {
    cordon_device d = cpu();
    cordon_safetensors f = open_data("st_half.safetensors");
    cordon_tensor h, b;
    CHECK_OK(cordon_safetensors_load(f, "h", d, &h));
    CHECK_OK(cordon_safetensors_load(f, "b", d, &b));
    float got[8];
    read_tensor(h, got, 8);
    /* 1, -2, 65504, 2^-24, 1023·2^-24, +inf, -0, NaN (quiet, payload 0x200) */
    const uint32_t want_h[8] = {0x3F800000u, 0xC0000000u, 0x477FE000u, 0x33800000u,
                                0x387FC000u, 0x7F800000u, 0x80000000u, 0x7FC00000u};
    for (int i = 0; i < 8; i++) {
        CHECK_MSG(bits_of(got[i]) == want_h[i], "f16 element %d: 0x%08x", i, bits_of(got[i]));
    }
    read_tensor(b, got, 6);
    /* 1, -3, +inf, 2^-133, NaN, 3.140625 */
    const uint32_t want_b[6] = {0x3F800000u, 0xC0400000u, 0x7F800000u, 0x00010000u, 0x7FC00000u, 0x40490000u};
    for (int i = 0; i < 6; i++) {
        CHECK_MSG(bits_of(got[i]) == want_b[i], "bf16 element %d: 0x%08x", i, bits_of(got[i]));
    }
    CHECK_OK(cordon_safetensors_close(f));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(load_as_bf16_keeps_bf16_bits_and_rounds_f32_and_f16) {
    cordon_device d = cpu();
    cordon_safetensors f = open_data("st_half.safetensors");
    cordon_tensor b, h;
    CHECK_OK(cordon_safetensors_load_as(f, "b", d, CORDON_DTYPE_BF16, &b));
    cordon_tensor_info info;
    CHECK_OK(cordon_tensor_info_get(b, &info));
    CHECK(info.dtype == CORDON_DTYPE_BF16 && info.elements == 6 && info.bytes == 12);
    uint16_t raw[8];
    CHECK_OK(cordon_tensor_read(b, raw, 6 * sizeof(uint16_t)));
    /* The file's bits: 1, -3, +inf, 2^-133, NaN, 3.140625. */
    const uint16_t want_b[6] = {0x3F80u, 0xC040u, 0x7F80u, 0x0001u, 0x7FC0u, 0x4049u};
    for (int i = 0; i < 6; i++) {
        CHECK_MSG(raw[i] == want_b[i], "bf16 element %d: 0x%04x", i, raw[i]);
    }
    /* F16 values rounded to bf16: 1, -2, 65504 (rounds up to 65536), 2^-24, 1023·2^-24, +inf, -0, NaN. */
    CHECK_OK(cordon_safetensors_load_as(f, "h", d, CORDON_DTYPE_BF16, &h));
    CHECK_OK(cordon_tensor_read(h, raw, 8 * sizeof(uint16_t)));
    const uint16_t want_h[8] = {0x3F80u, 0xC000u, 0x4780u, 0x3380u, 0x3880u, 0x7F80u, 0x8000u, 0x7FC0u};
    for (int i = 0; i < 8; i++) {
        CHECK_MSG(raw[i] == want_h[i], "f16 element %d as bf16: 0x%04x", i, raw[i]);
    }
    /* F32 target: exactly cordon_safetensors_load. */
    cordon_tensor b32;
    CHECK_OK(cordon_safetensors_load_as(f, "b", d, CORDON_DTYPE_F32, &b32));
    CHECK_OK(cordon_tensor_info_get(b32, &info));
    CHECK(info.dtype == CORDON_DTYPE_F32);
    CHECK_OK(cordon_safetensors_close(f));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(load_as_f32_file_into_bf16_rounds_to_nearest_even) {
    cordon_device d = cpu();
    cordon_safetensors f = open_data("st_f32.safetensors");
    cordon_tensor w;
    CHECK_OK(cordon_safetensors_load_as(f, "weight", d, CORDON_DTYPE_BF16, &w));
    const float vals[6] = {0.5f, -1.25f, 2.0f, 3.75f, -0.0f, 1e-3f};
    uint16_t want[6], raw[6];
    CHECK_OK(cordon_bf16_from_f32(want, vals, 6));
    CHECK_OK(cordon_tensor_read(w, raw, sizeof raw));
    for (int i = 0; i < 6; i++) {
        CHECK_MSG(raw[i] == want[i], "element %d: 0x%04x, want 0x%04x", i, raw[i], want[i]);
    }
    CHECK(raw[5] == 0x3A83u); /* 1e-3 = 0x3A83126F: the dropped half is below the tie */
    CHECK_OK(cordon_safetensors_close(f));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(load_as_refuses_other_dtypes_and_creates_nothing) {
    cordon_device d = cpu();
    cordon_safetensors f = open_data("st_half.safetensors");
    cordon_tensor t = {11};
    CHECK_STATUS(cordon_safetensors_load_as(f, "b", d, CORDON_DTYPE_F16, &t), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_safetensors_load_as(f, "b", d, (cordon_dtype)9, &t), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_safetensors_load_as(f, "nope", d, CORDON_DTYPE_BF16, &t), CORDON_INVALID_ARGUMENT);
    CHECK_EQ_U64(t.handle, 11);
    cordon_device_info info;
    CHECK_OK(cordon_device_info_get(d, &info));
    CHECK_EQ_U64(info.tensors, 0);
    CHECK_OK(cordon_safetensors_close(f));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(closed_file_and_handle_zero_are_stale) {
    cordon_safetensors f = open_data("st_f32.safetensors");
    CHECK_OK(cordon_safetensors_close(f));
    size_t n;
    CHECK_STATUS(cordon_safetensors_close(f), CORDON_STALE);
    CHECK_STATUS(cordon_safetensors_count(f, &n), CORDON_STALE);
    cordon_safetensors zero = {0};
    CHECK_STATUS(cordon_safetensors_count(zero, &n), CORDON_STALE);
    cordon_tensor t;
    CHECK_STATUS(cordon_safetensors_load(f, "weight", (cordon_device){0}, &t), CORDON_STALE);
}

TEST(load_onto_destroyed_device_is_stale_and_creates_nothing) {
    char path[512];
    data_path("st_f32.safetensors", path, sizeof path);
    cordon_device d = cpu();
    CHECK_OK(cordon_device_destroy(d));
    cordon_safetensors f;
    CHECK_OK(cordon_safetensors_open(path, &f));
    cordon_tensor t = {0};
    CHECK_STATUS(cordon_safetensors_load(f, "weight", d, &t), CORDON_STALE);
    CHECK_EQ_U64(t.handle, 0);
    CHECK_OK(cordon_safetensors_close(f));
}

/* ---------------------------------------------------------------------------------------------------
 * Saving */

TEST(save_then_load_round_trips_values_names_and_metadata) {
    cordon_device d = cpu();
    uint64_t shape[2] = {3, 4};
    cordon_tensor m, v, col;
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, shape, &m));
    float vals[12];
    for (int i = 0; i < 12; i++) {
        vals[i] = (float)i * 0.25f - 1.0f;
    }
    CHECK_OK(cordon_tensor_write(m, vals, sizeof vals));
    CHECK_OK(cordon_tensor_transpose(m, 0, 1, &v)); /* a strided view: saved packed, row-major */
    CHECK_OK(cordon_tensor_slice(m, 1, 2, 1, &col));
    char path[512];
    scratch_path("round.safetensors", path, sizeof path);
    cordon_safetensors_item items[3] = {{"m", m}, {"zz.transposed", v}, {"a\"quote\\", col}};
    cordon_safetensors_meta meta[2] = {{"z", "last"}, {"a", "tab\there"}};
    CHECK_OK(cordon_safetensors_save(path, items, 3, meta, 2, CORDON_SAFETENSORS_SYNC));

    cordon_safetensors f;
    CHECK_OK(cordon_safetensors_open(path, &f));
    size_t n = 0;
    CHECK_OK(cordon_safetensors_count(f, &n));
    CHECK_EQ_U64(n, 3);
    const char *value = NULL;
    CHECK_OK(cordon_safetensors_metadata_get(f, "a", &value));
    CHECK(value != NULL && strcmp(value, "tab\there") == 0);
    cordon_tensor back;
    float got[12];
    CHECK_OK(cordon_safetensors_load(f, "m", d, &back));
    read_tensor(back, got, 12);
    CHECK(memcmp(got, vals, sizeof vals) == 0);
    CHECK_OK(cordon_safetensors_load(f, "zz.transposed", d, &back));
    cordon_tensor_info info;
    CHECK_OK(cordon_tensor_info_get(back, &info));
    CHECK(info.shape[0] == 4 && info.shape[1] == 3);
    read_tensor(back, got, 12);
    for (int r = 0; r < 4; r++) {
        for (int c = 0; c < 3; c++) {
            CHECK(got[r * 3 + c] == vals[c * 4 + r]);
        }
    }
    CHECK_OK(cordon_safetensors_load(f, "a\"quote\\", d, &back));
    read_tensor(back, got, 3);
    CHECK(got[0] == vals[2] && got[1] == vals[6] && got[2] == vals[10]);
    CHECK_OK(cordon_safetensors_close(f));
    CHECK_OK(cordon_device_destroy(d));
    unlink(path);
}

TEST(saved_header_is_sorted_and_padded_to_8_bytes) {
    cordon_device d = cpu();
    uint64_t shape[1] = {1};
    cordon_tensor a, b;
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 1, shape, &a));
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 1, shape, &b));
    char path[512];
    scratch_path("layout.safetensors", path, sizeof path);
    cordon_safetensors_item items[2] = {{"b", b}, {"a", a}};
    cordon_safetensors_meta meta[1] = {{"k", "v"}};
    CHECK_OK(cordon_safetensors_save(path, items, 2, meta, 1, 0));
    uint8_t buf[512];
    size_t len = read_file(path, buf, sizeof buf);
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) {
        n |= (uint64_t)buf[i] << (8 * i);
    }
    CHECK_EQ_U64(n % 8, 0);
    CHECK_EQ_U64(len, 8 + n + 8);
    const char *want = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    CHECK(memcmp(buf + 8, want, strlen(want)) == 0);
    for (size_t i = 8 + strlen(want); i < 8 + n; i++) {
        CHECK(buf[i] == ' ');
    }
    CHECK_OK(cordon_device_destroy(d));
    unlink(path);
}

TEST(save_refusals_leave_the_path_untouched) {
    cordon_device d = cpu();
    uint64_t shape[1] = {2};
    cordon_tensor a, dead;
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 1, shape, &a));
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 1, shape, &dead));
    CHECK_OK(cordon_tensor_destroy(dead));
    char path[512];
    scratch_path("refused.safetensors", path, sizeof path);
    struct stat sb;
    cordon_safetensors_item dup[2] = {{"x", a}, {"x", a}};
    CHECK_STATUS(cordon_safetensors_save(path, dup, 2, NULL, 0, 0), CORDON_INVALID_ARGUMENT);
    cordon_safetensors_item reserved[1] = {{"__metadata__", a}};
    CHECK_STATUS(cordon_safetensors_save(path, reserved, 1, NULL, 0, 0), CORDON_INVALID_ARGUMENT);
    cordon_safetensors_item empty[1] = {{"", a}};
    CHECK_STATUS(cordon_safetensors_save(path, empty, 1, NULL, 0, 0), CORDON_INVALID_ARGUMENT);
    cordon_safetensors_item bad_utf8[1] = {{"\xc0\xaf", a}};
    CHECK_STATUS(cordon_safetensors_save(path, bad_utf8, 1, NULL, 0, 0), CORDON_INVALID_ARGUMENT);
    cordon_safetensors_item stale[2] = {{"x", a}, {"y", dead}};
    CHECK_STATUS(cordon_safetensors_save(path, stale, 2, NULL, 0, 0), CORDON_STALE);
    cordon_safetensors_item one[1] = {{"x", a}};
    cordon_safetensors_meta dup_meta[2] = {{"k", "1"}, {"k", "2"}};
    CHECK_STATUS(cordon_safetensors_save(path, one, 1, dup_meta, 2, 0), CORDON_INVALID_ARGUMENT);
    cordon_safetensors_meta null_value[1] = {{"k", NULL}};
    CHECK_STATUS(cordon_safetensors_save(path, one, 1, null_value, 1, 0), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_safetensors_save(path, one, 1, NULL, 0, 2u), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_safetensors_save(NULL, one, 1, NULL, 0, 0), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_safetensors_save(path, NULL, 1, NULL, 0, 0), CORDON_INVALID_ARGUMENT);
    CHECK(stat(path, &sb) != 0 && errno == ENOENT);
    /* An empty file (no tensors) is valid and reads back empty. */
    CHECK_OK(cordon_safetensors_save(path, NULL, 0, NULL, 0, 0));
    cordon_safetensors f;
    CHECK_OK(cordon_safetensors_open(path, &f));
    size_t n = 1;
    CHECK_OK(cordon_safetensors_count(f, &n));
    CHECK_EQ_U64(n, 0);
    CHECK_OK(cordon_safetensors_close(f));
    CHECK_OK(cordon_device_destroy(d));
    unlink(path);
}

/* ---------------------------------------------------------------------------------------------------
 * Refusals of untrusted files */

#define T32(name, shape, b, e) "\"" name "\":{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

TEST(valid_minimal_headers_are_accepted) {
    CHECK_OK(parse_json("{}", 0));
    CHECK_OK(parse_json("{}   \n\t ", 0));
    CHECK_OK(parse_json("{" T32("a", "[2]", 0, 8) "}", 8));
    CHECK_OK(parse_json("{" T32("a", "[2]", 0, 8) "," T32("b", "[]", 8, 12) "}", 12));
    /* keys in any order, escaped key spelling, whitespace between tokens */
    CHECK_OK(parse_json("{ \"a\" : { \"data_offsets\" : [ 0 , 4 ] , \"shape\" : [ 1 ] , \"\\u0064type\" : \"F32\" } }", 4));
    /* empty tensors take no bytes, anywhere in the order */
    CHECK_OK(parse_json("{" T32("e", "[0,5]", 0, 0) "," T32("a", "[1]", 0, 4) "}", 4));
    CHECK_OK(parse_json("{\"__metadata__\":{}}", 0));
}

TEST(refuses_truncated_files) {
    uint8_t buf[256];
    size_t len = make_image(buf, sizeof buf, "{" T32("a", "[2]", 0, 8) "}", 8);
    cordon__st_table t;
    for (size_t cut = 0; cut < len; cut++) {
        CHECK_MSG(cordon__safetensors_parse(buf, cut, &t) == CORDON_INVALID_ARGUMENT, "cut at %zu", cut);
    }
    CHECK_OK(cordon__safetensors_parse(buf, len, &t));
    cordon__safetensors_table_free(&t);
}

TEST(refuses_header_length_past_the_end_or_over_the_limit) {
    uint8_t buf[64] = {0};
    cordon__st_table t;
    size_t len = make_image(buf, sizeof buf, "{}", 0);
    buf[0] = 3; /* N = 3 in a file of 10 bytes */
    CHECK_STATUS(cordon__safetensors_parse(buf, len, &t), CORDON_INVALID_ARGUMENT);
    memset(buf, 0xFF, 8); /* N = 2^64 - 1 */
    CHECK_STATUS(cordon__safetensors_parse(buf, len, &t), CORDON_INVALID_ARGUMENT);
    /* A header above the 100,000,000-byte limit, even when the file is that long (never read). */
    size_t big = (size_t)CORDON_SAFETENSORS_MAX_HEADER + 9u;
    uint8_t *huge = calloc(1, big);
    CHECK(huge != NULL);
    uint64_t n = CORDON_SAFETENSORS_MAX_HEADER + 1u;
    for (int i = 0; i < 8; i++) {
        huge[i] = (uint8_t)(n >> (8 * i));
    }
    huge[8] = '{';
    CHECK_STATUS(cordon__safetensors_parse(huge, big, &t), CORDON_INVALID_ARGUMENT);
    free(huge);
}

TEST(refuses_overlapping_offsets) {
    CHECK_STATUS(parse_json("{" T32("a", "[2]", 0, 8) "," T32("b", "[2]", 4, 12) "}", 12), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(parse_json("{" T32("a", "[2]", 0, 8) "," T32("b", "[2]", 0, 8) "}", 8), CORDON_INVALID_ARGUMENT);
    /* an empty tensor placed inside another's bytes */
    CHECK_STATUS(parse_json("{" T32("a", "[2]", 0, 8) "," T32("e", "[0]", 4, 4) "}", 8), CORDON_INVALID_ARGUMENT);
}

TEST(refuses_gaps_in_the_data_section) {
    CHECK_STATUS(parse_json("{" T32("a", "[1]", 0, 4) "," T32("b", "[1]", 8, 12) "}", 12), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(parse_json("{" T32("a", "[1]", 4, 8) "}", 8), CORDON_INVALID_ARGUMENT);  /* before */
    CHECK_STATUS(parse_json("{" T32("a", "[1]", 0, 4) "}", 5), CORDON_INVALID_ARGUMENT);  /* after */
    CHECK_STATUS(parse_json("{}", 1), CORDON_INVALID_ARGUMENT);
}

TEST(refuses_offsets_out_of_range) {
    CHECK_STATUS(parse_json("{" T32("a", "[1]", 0, 4) "}", 3), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(parse_json("{" T32("a", "[0]", 8, 4) "}", 8), CORDON_INVALID_ARGUMENT); /* begin > end */
    CHECK_STATUS(parse_json("{" T32("a", "[1]", 18446744073709551612, 18446744073709551615) "}", 4),
                 CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(parse_json("{" T32("a", "[1]", 0, 18446744073709551616) "}", 4), CORDON_OVERFLOW);
}

TEST(refuses_wrong_byte_length) {
    CHECK_STATUS(parse_json("{" T32("a", "[3]", 0, 8) "}", 8), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(parse_json("{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,12]}}", 12),
                 CORDON_INVALID_ARGUMENT);
}

TEST(refuses_unknown_dtype_and_more_than_four_dimensions_as_unsupported) {
    CHECK_STATUS(parse_json("{\"a\":{\"dtype\":\"Q4_K\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1), CORDON_UNSUPPORTED);
    CHECK_STATUS(parse_json("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), CORDON_UNSUPPORTED);
    CHECK_STATUS(parse_json("{" T32("a", "[1,1,1,1,1]", 0, 4) "}", 4), CORDON_UNSUPPORTED);
    CHECK_OK(parse_json("{" T32("a", "[1,1,1,1]", 0, 4) "}", 4));
}

TEST(refuses_huge_shapes_as_overflow) {
    CHECK_STATUS(parse_json("{" T32("a", "[4294967296,4294967296]", 0, 4) "}", 4), CORDON_OVERFLOW);
    CHECK_STATUS(parse_json("{" T32("a", "[4611686018427387904]", 0, 4) "}", 4), CORDON_OVERFLOW); /* × 4 bytes */
    CHECK_STATUS(parse_json("{" T32("a", "[99999999999999999999]", 0, 4) "}", 4), CORDON_OVERFLOW);
    /* a product that fits but does not match the bytes */
    CHECK_STATUS(parse_json("{" T32("a", "[1073741824,4]", 0, 4) "}", 4), CORDON_INVALID_ARGUMENT);
}

TEST(refuses_malformed_json) {
    static const char *const bad[] = {
        "",
        " {}",                       /* the object must start at the first byte */
        "[]",
        "{",
        "{}}",
        "{} x",
        "{,}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1}",
        "{\"a\":\"x\"}",
        "{\"a\":{}}",                 /* keys missing */
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}",
        "{" T32("a", "[1]", 0, 4) ",}",
        "{" T32("a", "[1,]", 0, 4) "}",
        "{" T32("a", "[01]", 0, 4) "}",
        "{" T32("a", "[-1]", 0, 4) "}",
        "{" T32("a", "[1.0]", 0, 4) "}",
        "{" T32("a", "[1e0]", 0, 4) "}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}",
        "{\"a\":{\"dtype\":F32,\"shape\":[1],\"data_offsets\":[0,4]}}",
        "{'a':{}}",
        "{\"a\\x\":{}}",                                  /* unknown escape */
        "{\"\\ud800\":{}}",                               /* lone high surrogate */
        "{\"\\udc00\":{}}",                               /* lone low surrogate */
        "{\"\\ud800\\u0041\":{}}",                        /* high surrogate with a non-surrogate */
        "{\"\\u00\":{}}",
        "{\"\\u0000\":{}}",                               /* NUL cannot be a C string */
        "{\"a\tb\":{}}",                                  /* raw control character */
        "{\"\xc0\xaf\":{}}",                              /* overlong UTF-8 */
        "{\"\xed\xa0\x80\":{}}",                          /* encoded surrogate */
        "{\"\xf4\x90\x80\x80\":{}}",                      /* above U+10FFFF */
        "{\"\xe2\x82\":{}}",                              /* truncated sequence */
        "{\"__metadata__\":{\"k\":1}}",
        "{\"__metadata__\":{\"k\":{}}}",
        "{\"__metadata__\":[]}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}  x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t data = strstr(bad[i], "[0,4]") != NULL ? 4 : 0;
        CHECK_MSG(parse_json(bad[i], data) == CORDON_INVALID_ARGUMENT, "accepted or misreported #%zu: %s", i, bad[i]);
    }
}

TEST(refuses_duplicate_keys) {
    CHECK_STATUS(parse_json("{" T32("a", "[1]", 0, 4) "," T32("a", "[1]", 4, 8) "}", 8), CORDON_INVALID_ARGUMENT);
    /* the same name spelt with an escape is still the same key */
    CHECK_STATUS(parse_json("{" T32("a", "[1]", 0, 4) "," T32("\\u0061", "[1]", 4, 8) "}", 8), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(parse_json("{\"__metadata__\":{},\"__metadata__\":{}}", 0), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(parse_json("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(parse_json("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                 CORDON_INVALID_ARGUMENT);
}

TEST(lists_non_float_dtypes_and_empty_tensors_but_refuses_to_load_them) {
    uint8_t buf[512];
    size_t len = make_image(buf, sizeof buf,
                            "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                            "\"none\":{\"dtype\":\"F32\",\"shape\":[3,0],\"data_offsets\":[16,16]}}",
                            16);
    cordon_safetensors f;
    CHECK_OK(cordon__safetensors_open_image(buf, len, &f));
    cordon_safetensors_entry e;
    CHECK_OK(cordon_safetensors_entry_at(f, 0, &e));
    CHECK(strcmp(e.name, "ids") == 0 && strcmp(e.dtype_name, "I64") == 0 && e.dtype == 0);
    CHECK_OK(cordon_safetensors_entry_at(f, 1, &e));
    CHECK(e.elements == 0 && e.ndim == 2);
    cordon_device d = cpu();
    cordon_tensor t = {0};
    CHECK_STATUS(cordon_safetensors_load(f, "ids", d, &t), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_safetensors_load(f, "none", d, &t), CORDON_UNSUPPORTED);
    cordon_device_info info;
    CHECK_OK(cordon_device_info_get(d, &info));
    CHECK_EQ_U64(info.tensors, 0);
    CHECK_OK(cordon_safetensors_close(f));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(missing_file_is_os_error_with_enoent) {
    cordon_safetensors f = {0};
    cordon_clear_os_error();
    CHECK_STATUS(cordon_safetensors_open("/nonexistent/cordon/model.safetensors", &f), CORDON_OS_ERROR);
    cordon_os_error e = cordon_last_os_error();
#if defined(_WIN32)
    /* The Win32 error: ERROR_PATH_NOT_FOUND (3) for a missing directory, ERROR_FILE_NOT_FOUND (2). */
    CHECK((e.code == 2 || e.code == 3) && strcmp(e.call, "CreateFileW") == 0);
#else
    CHECK(e.code == ENOENT && strcmp(e.call, "open") == 0);
#endif
    CHECK_EQ_U64(f.handle, 0);
}

TEST(directory_empty_and_garbage_files_are_invalid) {
    cordon_safetensors f;
    CHECK_STATUS(cordon_safetensors_open("/tmp", &f), CORDON_INVALID_ARGUMENT);
    char path[512];
    scratch_path("empty.safetensors", path, sizeof path);
    write_file(path, "", 0);
    CHECK_STATUS(cordon_safetensors_open(path, &f), CORDON_INVALID_ARGUMENT);
    write_file(path, "garbage!garbage!", 16);
    CHECK_STATUS(cordon_safetensors_open(path, &f), CORDON_INVALID_ARGUMENT);
    unlink(path);
}

/* ---------------------------------------------------------------------------------------------------
 * Injected OS failures */

TEST(injected_open_fstat_mmap_failures_give_statuses_and_leave_nothing) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    char path[512];
    data_path("st_f32.safetensors", path, sizeof path);
    cordon_safetensors f = {0};
    struct {
        cordon__sys_call call;
        int err;
        cordon_status want;
        const char *name;
    } cases[] = {
        {CORDON__CALL_OPEN, EACCES, CORDON_PERMISSION_DENIED, "open"},
        {CORDON__CALL_OPEN, EMFILE, CORDON_OUT_OF_RESOURCES, "open"},
        {CORDON__CALL_FSTAT, EIO, CORDON_OS_ERROR, "fstat"},
        {CORDON__CALL_MMAP, ENOMEM, CORDON_OUT_OF_MEMORY, "mmap"},
        {CORDON__CALL_MALLOC, ENOMEM, CORDON_OUT_OF_MEMORY, "malloc"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cordon__fault_reset();
        CHECK_OK(cordon__fault_arm(cases[i].call, 1, 1, cases[i].err));
        CHECK_STATUS(cordon_safetensors_open(path, &f), cases[i].want);
        CHECK_EQ_U64(cordon__fault_fired(cases[i].call), 1);
        cordon_os_error e = cordon_last_os_error();
        CHECK(e.code == cases[i].err && strcmp(e.call, cases[i].name) == 0);
        CHECK_EQ_U64(f.handle, 0);
    }
    /* Every allocation of the parse in turn (the pool, the tensor table, the metadata table, the handle
     * object…): each failure is OUT_OF_MEMORY and leaks nothing (ASan and valgrind check). */
    for (uint64_t nth = 1; nth <= 8; nth++) {
        cordon__fault_reset();
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, nth, 1, ENOMEM));
        cordon_status st = cordon_safetensors_open(path, &f);
        if (st == CORDON_OK) {
            CHECK_OK(cordon_safetensors_close(f));
        } else {
            CHECK_STATUS(st, CORDON_OUT_OF_MEMORY);
        }
    }
    /* EINTR is retried, and a failing close of the read-only descriptor does not fail the open. */
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_OPEN, 1, 2, EINTR));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MMAP, 1, 1, EINTR));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_CLOSE, 1, 1, EIO));
    CHECK_OK(cordon_safetensors_open(path, &f));
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_OPEN), 2);
    CHECK_OK(cordon_safetensors_close(f));
    cordon__fault_stop();
}

TEST(injected_munmap_failure_keeps_the_file_open) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    cordon_safetensors f = open_data("st_f32.safetensors");
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MUNMAP, 1, 1, EINVAL));
    CHECK_STATUS(cordon_safetensors_close(f), CORDON_OS_ERROR);
    cordon__fault_stop();
    size_t n = 0;
    CHECK_OK(cordon_safetensors_count(f, &n));
    CHECK_EQ_U64(n, 4);
    CHECK_OK(cordon_safetensors_close(f));
}

TEST(injected_write_fsync_close_failures_give_statuses) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    cordon_device d = cpu();
    uint64_t shape[1] = {20000}; /* 80 KB: more than one staging buffer for the strided view */
    cordon_tensor a, v;
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 1, shape, &a));
    uint64_t vs[1] = {10000}, st1[1] = {2};
    CHECK_OK(cordon_tensor_view(a, 1, vs, st1, 0, &v));
    char path[512];
    scratch_path("faults.safetensors", path, sizeof path);
    cordon_safetensors_item items[2] = {{"a", a}, {"v", v}};
    struct {
        cordon__sys_call call;
        uint64_t nth;
        int err;
        cordon_status want;
    } cases[] = {
        {CORDON__CALL_OPEN, 1, EACCES, CORDON_PERMISSION_DENIED},
        {CORDON__CALL_WRITE, 1, ENOSPC, CORDON_OUT_OF_RESOURCES},
        {CORDON__CALL_WRITE, 3, EIO, CORDON_OS_ERROR},
        {CORDON__CALL_FSYNC, 1, EIO, CORDON_OS_ERROR},
        {CORDON__CALL_CLOSE, 1, EIO, CORDON_OS_ERROR},
        {CORDON__CALL_MALLOC, 1, ENOMEM, CORDON_OUT_OF_MEMORY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cordon__fault_reset();
        CHECK_OK(cordon__fault_arm(cases[i].call, cases[i].nth, 1, cases[i].err));
        CHECK_STATUS(cordon_safetensors_save(path, items, 2, NULL, 0, CORDON_SAFETENSORS_SYNC), cases[i].want);
        CHECK_EQ_U64(cordon__fault_fired(cases[i].call), 1);
        /* Whatever was left is refused as a whole file or is complete: never half-read. */
        cordon_safetensors f;
        cordon_status st = cordon_safetensors_open(path, &f);
        if (st == CORDON_OK) {
            CHECK_OK(cordon_safetensors_close(f));
        }
    }
    /* EINTR and short writes are continued, not reported. */
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_WRITE, 2, 3, EINTR));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FSYNC, 1, 1, EINTR));
    CHECK_OK(cordon_safetensors_save(path, items, 2, NULL, 0, CORDON_SAFETENSORS_SYNC));
    cordon__fault_stop();
    cordon_safetensors f;
    CHECK_OK(cordon_safetensors_open(path, &f));
    CHECK_OK(cordon_safetensors_close(f));
    CHECK_OK(cordon_device_destroy(d));
    unlink(path);
}

/* ---------------------------------------------------------------------------------------------------
 * LoRA adapters under PEFT's names */

#define PREFIX "base_model.model.layers.0.self_attn.q_proj"

TEST(lora_loads_a_peft_adapter_transposed_with_its_parameters) {
    cordon_device d = cpu();
    cordon_safetensors f = open_data("st_adapter.safetensors");
    cordon_lora_params p;
    uint64_t rank = 0;
    CHECK_OK(cordon_safetensors_lora_params(f, &p, &rank, NULL, 0));
    CHECK(p.alpha == 16.0f && p.scaling == CORDON_LORA_SCALE_STANDARD && rank == 2);
    cordon_tensor a, b;
    CHECK_OK(cordon_safetensors_load_lora(f, PREFIX, d, &a, &b, NULL, 0));
    cordon_tensor_info ia, ib;
    CHECK_OK(cordon_tensor_info_get(a, &ia));
    CHECK_OK(cordon_tensor_info_get(b, &ib));
    CHECK(ia.ndim == 2 && ia.shape[0] == 3 && ia.shape[1] == 2); /* (in, r) */
    CHECK(ib.ndim == 2 && ib.shape[0] == 2 && ib.shape[1] == 4); /* (r, out) */
    float ga[6], gb[8];
    read_tensor(a, ga, 6);
    read_tensor(b, gb, 8);
    /* file A (r=2, in=3) = [[1,2,3],[4,5,6]]; cordon A = its transpose */
    const float wa[6] = {1, 4, 2, 5, 3, 6};
    /* file B (out=4, r=2) = [[.5,-.5],[1.5,-1.5],[2.5,-2.5],[3.5,-3.5]] */
    const float wb[8] = {0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, -3.5f};
    CHECK(memcmp(ga, wa, sizeof wa) == 0);
    CHECK(memcmp(gb, wb, sizeof wb) == 0);
    CHECK_OK(cordon_safetensors_close(f));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(lora_save_writes_peft_shapes_and_round_trips_the_forward) {
    cordon_device d = cpu();
    const uint64_t in = 5, r = 3, out = 4, rows = 2;
    uint64_t sa[2] = {in, r}, sb[2] = {r, out}, sw[2] = {in, out}, sx[2] = {rows, in}, sy[2] = {rows, out};
    cordon_tensor a, b, w, x, y1, y2;
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sa, &a));
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sb, &b));
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sw, &w));
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sx, &x));
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sy, &y1));
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sy, &y2));
    float buf[64];
    for (int i = 0; i < 64; i++) {
        buf[i] = (float)((i * 7) % 11) * 0.125f - 0.5f;
    }
    CHECK_OK(cordon_tensor_write(a, buf, in * r * 4));
    CHECK_OK(cordon_tensor_write(b, buf + 3, r * out * 4));
    CHECK_OK(cordon_tensor_write(w, buf + 5, in * out * 4));
    CHECK_OK(cordon_tensor_write(x, buf + 9, rows * in * 4));
    cordon_lora_params p = {0.1f, CORDON_LORA_SCALE_RSLORA};
    char path[512];
    scratch_path("adapter.safetensors", path, sizeof path);
    cordon_lora_adapter ad[1] = {{PREFIX, a, b}};
    CHECK_OK(cordon_safetensors_save_lora(path, ad, 1, &p, 0, NULL, 0));

    cordon_safetensors f;
    CHECK_OK(cordon_safetensors_open(path, &f));
    size_t idx = 0;
    cordon_safetensors_entry e;
    CHECK_OK(cordon_safetensors_find(f, PREFIX ".lora_A.weight", &idx));
    CHECK_OK(cordon_safetensors_entry_at(f, idx, &e));
    CHECK(e.ndim == 2 && e.shape[0] == r && e.shape[1] == in); /* PEFT: (r, in) */
    CHECK_OK(cordon_safetensors_find(f, PREFIX ".lora_B.weight", &idx));
    CHECK_OK(cordon_safetensors_entry_at(f, idx, &e));
    CHECK(e.ndim == 2 && e.shape[0] == out && e.shape[1] == r); /* PEFT: (out, r) */
    const char *v = NULL;
    CHECK_OK(cordon_safetensors_metadata_get(f, "lora_alpha", &v));
    CHECK(v != NULL && strcmp(v, "0.1") == 0);
    cordon_lora_params q;
    uint64_t rank = 0;
    CHECK_OK(cordon_safetensors_lora_params(f, &q, &rank, NULL, 0));
    CHECK(q.alpha == p.alpha && q.scaling == CORDON_LORA_SCALE_RSLORA && rank == r);
    cordon_tensor a2, b2;
    CHECK_OK(cordon_safetensors_load_lora(f, PREFIX, d, &a2, &b2, NULL, 0));
    CHECK_OK(cordon_safetensors_close(f));

    CHECK_OK(cordon_lora_linear(y1, x, w, CORDON_TENSOR_NONE, a, b, &p));
    CHECK_OK(cordon_lora_linear(y2, x, w, CORDON_TENSOR_NONE, a2, b2, &q));
    float o1[8], o2[8];
    read_tensor(y1, o1, rows * out);
    read_tensor(y2, o2, rows * out);
    CHECK(memcmp(o1, o2, sizeof o1) == 0);
    CHECK_OK(cordon_device_destroy(d));
    unlink(path);
}

/* Adapters with a key missing or misshapen: the load refuses with the status given and names the key. */
static const struct {
    const char *json;
    size_t data;
    const char *prefix;
    cordon_status status;
    const char *key;
    const char *params_key; /* non-NULL: cordon_safetensors_lora_params refuses too, naming this key */
} lora_bad[] = {
    /* B missing; then a prefix with neither; the parameters missing from the metadata */
    {"{" T32("p.lora_A.weight", "[2,3]", 0, 24) "}", 24, "p", CORDON_INVALID_ARGUMENT, "p.lora_B.weight", NULL},
    {"{" T32("p.lora_A.weight", "[2,3]", 0, 24) "}", 24, "q", CORDON_INVALID_ARGUMENT, "q.lora_A.weight",
     "lora_alpha"},
    /* B of rank 3 against A of rank 2 */
    {"{" T32("p.lora_A.weight", "[2,3]", 0, 24) "," T32("p.lora_B.weight", "[4,3]", 24, 72) "}", 72, "p",
     CORDON_SHAPE_MISMATCH, "p.lora_B.weight", NULL},
    /* A of 3 dimensions */
    {"{" T32("p.lora_A.weight", "[2,3,1]", 0, 24) "," T32("p.lora_B.weight", "[4,2]", 24, 56) "}", 56, "p",
     CORDON_SHAPE_MISMATCH, "p.lora_A.weight", NULL},
    /* lora_rank contradicting the shapes; a malformed alpha */
    {"{\"__metadata__\":{\"lora_rank\":\"3\",\"lora_alpha\":\"1e\",\"lora_scaling\":\"standard\"},"
     T32("p.lora_A.weight", "[2,3]", 0, 24) "," T32("p.lora_B.weight", "[4,2]", 24, 56) "}", 56, "p",
     CORDON_SHAPE_MISMATCH, "lora_rank", "lora_alpha"},
};

TEST(lora_missing_or_misshapen_keys_are_named) {
    uint8_t buf[1024];
    cordon_device d = cpu();
    cordon_safetensors f;
    char key[64] = "";
    cordon_tensor a = {0}, b = {0};
    cordon_lora_params p;
    for (size_t i = 0; i < sizeof lora_bad / sizeof lora_bad[0]; i++) {
        size_t len = make_image(buf, sizeof buf, lora_bad[i].json, lora_bad[i].data);
        CHECK_OK(cordon__safetensors_open_image(buf, len, &f));
        CHECK_STATUS(cordon_safetensors_load_lora(f, lora_bad[i].prefix, d, &a, &b, key, sizeof key),
                     lora_bad[i].status);
        CHECK_MSG(strcmp(key, lora_bad[i].key) == 0, "case %zu names %s", i, key);
        if (lora_bad[i].params_key != NULL) {
            CHECK_STATUS(cordon_safetensors_lora_params(f, &p, NULL, key, sizeof key), CORDON_INVALID_ARGUMENT);
            CHECK_MSG(strcmp(key, lora_bad[i].params_key) == 0, "case %zu: parameters name %s", i, key);
        }
        CHECK_OK(cordon_safetensors_close(f));
    }
    /* a truncated detail stays a string */
    size_t len = make_image(buf, sizeof buf, lora_bad[0].json, lora_bad[0].data);
    CHECK_OK(cordon__safetensors_open_image(buf, len, &f));
    char small[5];
    CHECK_STATUS(cordon_safetensors_load_lora(f, "p", d, &a, &b, small, sizeof small), CORDON_INVALID_ARGUMENT);
    CHECK(strcmp(small, "p.lo") == 0);
    CHECK_OK(cordon_safetensors_close(f));
    CHECK_EQ_U64(a.handle, 0);
    CHECK_EQ_U64(b.handle, 0);
    cordon_device_info info;
    CHECK_OK(cordon_device_info_get(d, &info));
    CHECK_EQ_U64(info.tensors, 0);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(lora_save_refuses_mismatched_ranks_naming_the_key) {
    cordon_device d = cpu();
    uint64_t sa[2] = {4, 2}, sb[2] = {3, 5};
    cordon_tensor a, b;
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sa, &a));
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sb, &b));
    char path[512], key[64] = "";
    scratch_path("bad_adapter.safetensors", path, sizeof path);
    cordon_lora_adapter ad[1] = {{"layer", a, b}};
    cordon_lora_params p = {8.0f, CORDON_LORA_SCALE_STANDARD};
    CHECK_STATUS(cordon_safetensors_save_lora(path, ad, 1, &p, 0, key, sizeof key), CORDON_SHAPE_MISMATCH);
    CHECK(strcmp(key, "layer.lora_B.weight") == 0);
    p.scaling = (cordon_lora_scaling)7;
    CHECK_STATUS(cordon_safetensors_save_lora(path, ad, 1, &p, 0, key, sizeof key), CORDON_INVALID_ARGUMENT);
    struct stat sb_;
    CHECK(stat(path, &sb_) != 0);
    cordon_device_info info;
    CHECK_OK(cordon_device_info_get(d, &info));
    CHECK_EQ_U64(info.tensors, 2); /* the transposed views made for saving are gone */
    CHECK_OK(cordon_device_destroy(d));
}

/* The scratch directory goes when the test process ends (its files are removed by each test). */
__attribute__((destructor)) static void remove_scratch_dir(void) {
    if (scratch_dir[0] != '\0') {
        rmdir(scratch_dir);
    }
}
