/* SPDX-License-Identifier: Apache-2.0 */
/* `cordon audit`: the SAFETY audit of src/sys/.
 *
 * The list of external symbols is taken from the compiled src/sys/ objects (nm -u), so nothing the
 * cordon calls can be missed; each symbol is then located in the src/sys/ sources and every place it is
 * used must carry a `SAFETY: <symbol> -- <purpose>. Relies on: … On failure: …` comment ending at most
 * SAFETY_REACH lines above it. The result is SAFETY_AUDIT.md: one entry per external symbol, with its
 * purpose, its call sites (file and function), the invariants each relies on and how failure is
 * reported.
 *
 * The src/sys/ files of another platform, which this build does not compile (src/sys/win32/ on Linux),
 * are audited too: the manifest names them (`other_source PLATFORM FILE`) with the list of symbols that
 * platform's objects import (`other_imports PLATFORM FILE`, src/sys/win32/imports.txt, which the
 * windows build compares with its objects), so SAFETY_AUDIT.md covers every platform whatever the host.
 * A symbol's call sites are looked for in the files of the platforms that import it.
 *
 * Symbols on tools/pure-c-allowlist.txt (memcpy, expf…) and compiler-runtime symbols are left out, so
 * the audit is the same for gcc and clang and for sanitizer builds. */
#define _GNU_SOURCE

#include "cordon_cli.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAFETY_REACH 6
#define MAX_ITEMS 4096

typedef struct strlist {
    char *items[MAX_ITEMS];
    int count;
} strlist;

static void strlist_add(strlist *l, const char *s) {
    if (l->count < MAX_ITEMS) {
        l->items[l->count++] = strdup(s);
    }
}

static bool strlist_has(const strlist *l, const char *s) {
    for (int i = 0; i < l->count; i++) {
        if (strcmp(l->items[i], s) == 0) {
            return true;
        }
    }
    return false;
}

static void strlist_free(strlist *l) {
    for (int i = 0; i < l->count; i++) {
        free(l->items[i]);
    }
    l->count = 0;
}

/* Symbols whose name in the object differs from the name written in the source. */
static const char *const aliases[][2] = {
    {"__errno_location", "errno"},
    {"__sched_cpucount", "CPU_COUNT"},
    {"__assert_fail", "assert"},
    {"__isoc99_sscanf", "sscanf"},
    {"__xpg_strerror_r", "strerror_r"},
    {"__cpu_indicator_init", "__builtin_cpu_init"},
    {"__cpu_model", "__builtin_cpu_supports"},
    {"__cpu_features2", "__builtin_cpu_supports"},
    {"__sigsetjmp", "sigsetjmp"},
    {"__longjmp_chk", "siglongjmp"},
    {"_errno", "errno"}, /* the Windows C runtime's errno macro */
};

#define MAX_PLATFORMS 8

typedef struct site {
    char *file;     /* relative to the source directory */
    char *function; /* enclosing function */
    int line;
    char *purpose;
    char *relies;
    char *failure;
    bool commented;
    bool complete;
} site;

typedef struct symbol {
    char *name;   /* as in the object file */
    char *source; /* as written in the source */
    unsigned platforms; /* bit 0: this build; bit p: other platform p (manifest order) */
    site sites[64];
    int nsites;
} symbol;

typedef struct manifest {
    char source_dir[1024];
    char nm[512];
    strlist sys_objects, safe_objects, sys_sources;
    /* Other platforms: other_sources.items[i] is built for platform other_source_platform[i]. */
    strlist platforms; /* names; index + 1 is the platform's bit */
    strlist other_sources, other_imports;
    int other_source_platform[MAX_ITEMS], other_imports_platform[MAX_ITEMS];
} manifest;

/* The bit of a named other platform, added on first sight; 0 when there are too many. */
static unsigned platform_bit(manifest *m, const char *name) {
    for (int i = 0; i < m->platforms.count; i++) {
        if (strcmp(m->platforms.items[i], name) == 0) {
            return 1u << (i + 1);
        }
    }
    if (m->platforms.count + 1 >= MAX_PLATFORMS) {
        return 0;
    }
    strlist_add(&m->platforms, name);
    return 1u << m->platforms.count;
}

/* "PLATFORM FILE": the platform's bit, the file added to l with that bit recorded in bits. */
static void add_other(manifest *m, const char *val, strlist *l, int *bits) {
    char name[64];
    const char *sp = strchr(val, ' ');
    if (sp == NULL || (size_t)(sp - val) >= sizeof name || l->count >= MAX_ITEMS) {
        return;
    }
    memcpy(name, val, (size_t)(sp - val));
    name[sp - val] = '\0';
    unsigned bit = platform_bit(m, name);
    if (bit != 0) {
        bits[l->count] = (int)bit;
        strlist_add(l, sp + 1);
    }
}

static bool read_manifest(const char *path, manifest *m) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cordon audit: cannot open manifest %s (build the project first, or pass --manifest)\n", path);
        return false;
    }
    char line[4096];
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *sp = strchr(line, ' ');
        if (sp == NULL) {
            continue;
        }
        *sp = '\0';
        const char *val = sp + 1;
        if (strcmp(line, "source_dir") == 0) {
            snprintf(m->source_dir, sizeof m->source_dir, "%s", val);
        } else if (strcmp(line, "nm") == 0) {
            snprintf(m->nm, sizeof m->nm, "%s", val);
        } else if (strcmp(line, "sys_object") == 0) {
            strlist_add(&m->sys_objects, val);
        } else if (strcmp(line, "safe_object") == 0) {
            strlist_add(&m->safe_objects, val);
        } else if (strcmp(line, "sys_source") == 0) {
            strlist_add(&m->sys_sources, val);
        } else if (strcmp(line, "other_source") == 0) {
            add_other(m, val, &m->other_sources, m->other_source_platform);
        } else if (strcmp(line, "other_imports") == 0) {
            add_other(m, val, &m->other_imports, m->other_imports_platform);
        }
    }
    fclose(f);
    if (m->nm[0] == '\0') {
        snprintf(m->nm, sizeof m->nm, "nm");
    }
    return m->sys_objects.count > 0 && m->sys_sources.count > 0;
}

/* Runs nm over the objects; collects undefined (want_undefined) or defined symbol names. */
static bool run_nm(const char *nm, const strlist *objs, bool want_undefined, strlist *out) {
    size_t cap = 256;
    for (int i = 0; i < objs->count; i++) {
        cap += strlen(objs->items[i]) + 4;
    }
    char *cmd = malloc(cap + strlen(nm));
    if (cmd == NULL) {
        return false;
    }
    /* Defined: global definitions only. A local symbol (a static function, or one renamed with an asm
     * label) is not visible to other objects, so it can neither satisfy nor interpose on an import. */
    snprintf(cmd, cap + strlen(nm), "'%s' -P %s", nm, want_undefined ? "-u" : "-g --defined-only");
    for (int i = 0; i < objs->count; i++) {
        strcat(cmd, " '");
        strcat(cmd, objs->items[i]);
        strcat(cmd, "'");
    }
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (p == NULL) {
        return false;
    }
    char line[1024];
    while (fgets(line, sizeof line, p) != NULL) {
        char name[512], type[8];
        if (sscanf(line, "%511s %7s", name, type) != 2) {
            continue;
        }
        size_t n = strlen(name);
        if (n > 0 && name[n - 1] == ':') {
            continue; /* "file.o:" header */
        }
        /* A Windows object imports a DLL function declared dllimport through its import slot,
         * __imp_<name>: the function is <name>. */
        if (strncmp(name, "__imp_", 6) == 0) {
            memmove(name, name + 6, strlen(name + 6) + 1);
        }
        if (!strlist_has(out, name)) {
            strlist_add(out, name);
        }
    }
    return pclose(p) == 0;
}

static bool allowlisted(const strlist *patterns, const char *sym) {
    for (int i = 0; i < patterns->count; i++) {
        if (fnmatch(patterns->items[i], sym, 0) == 0) {
            return true;
        }
    }
    return false;
}

static bool read_allowlist(const char *path, strlist *out) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cordon audit: cannot open %s\n", path);
        return false;
    }
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *s = line;
        while (isspace((unsigned char)*s)) {
            s++;
        }
        if (*s != '\0' && *s != '#') {
            strlist_add(out, s);
        }
    }
    fclose(f);
    return true;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* A source file split into lines of code (comments and literals blanked) and its comments. */
typedef struct comment {
    int first_line, last_line;
    char *text; /* normalised: comment markers and leading '*' removed, whitespace folded */
} comment;

typedef struct source {
    char *rel;
    char *path;
    unsigned platforms; /* the platforms that build it (symbol.platforms bits) */
    char **code;  /* per line, 1-based */
    int nlines;
    comment comments[1024];
    int ncomments;
} source;

static void fold_append(char *dst, size_t *len, size_t cap, char c) {
    if (isspace((unsigned char)c)) {
        if (*len == 0 || dst[*len - 1] == ' ') {
            return;
        }
        c = ' ';
    }
    if (*len + 1 < cap) {
        dst[(*len)++] = c;
        dst[*len] = '\0';
    }
}

static void parse_source(const char *path, const char *source_dir, source *s) {
    size_t len = 0;
    char *text = read_file(path, &len);
    memset(s, 0, sizeof *s);
    size_t sdl = strlen(source_dir);
    s->rel = strdup(strncmp(path, source_dir, sdl) == 0 && path[sdl] == '/' ? path + sdl + 1 : path);
    if (text == NULL) {
        return;
    }
    char *code = strdup(text);
    int line = 1;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            line++;
        } else if (text[i] == '/' && text[i + 1] == '*') {
            comment *c = s->ncomments < 1024 ? &s->comments[s->ncomments++] : NULL;
            char *buf = calloc(1, len + 1);
            size_t blen = 0;
            bool line_start = false;
            if (c != NULL) {
                c->first_line = line;
            }
            code[i] = code[i + 1] = ' ';
            i += 2;
            for (; i < len && !(text[i] == '*' && text[i + 1] == '/'); i++) {
                if (text[i] == '\n') {
                    line++;
                    line_start = true;
                    fold_append(buf, &blen, len + 1, ' ');
                    continue;
                }
                code[i] = ' ';
                if (line_start && (text[i] == ' ' || text[i] == '\t')) {
                    continue;
                }
                if (line_start && text[i] == '*') {
                    line_start = false;
                    continue;
                }
                line_start = false;
                fold_append(buf, &blen, len + 1, text[i]);
            }
            if (i < len) {
                code[i] = code[i + 1] = ' ';
                i++;
            }
            if (c != NULL) {
                c->last_line = line;
                c->text = buf;
            } else {
                free(buf);
            }
        } else if (text[i] == '/' && text[i + 1] == '/') {
            for (; i < len && text[i] != '\n'; i++) {
                code[i] = ' ';
            }
            i--;
        } else if (text[i] == '"' || text[i] == '\'') {
            char q = text[i];
            for (i++; i < len && text[i] != q && text[i] != '\n'; i++) {
                if (text[i] == '\\') {
                    code[i++] = ' ';
                }
                code[i] = ' ';
            }
        }
    }
    s->nlines = line;
    s->code = calloc((size_t)line + 2, sizeof(char *));
    char *p = code;
    for (int l = 1; l <= line && p != NULL; l++) {
        char *nl = strchr(p, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        s->code[l] = p;
        p = nl != NULL ? nl + 1 : NULL;
    }
    free(text);
}

static bool is_ident(char c) {
    return isalnum((unsigned char)c) || c == '_';
}

/* Is this line a directive whose text names no code: #include (a header name such as
 * <sys/syscall.h> contains "syscall"), #error, #warning, #pragma, #line? Every other line counts,
 * #define and #if included: an OS call written inside a macro is a use like any other. */
static bool textual_directive(const char *code) {
    const char *t = code;
    while (isspace((unsigned char)*t)) {
        t++;
    }
    if (*t != '#') {
        return false;
    }
    t++;
    while (isspace((unsigned char)*t)) {
        t++;
    }
    static const char *const kinds[] = {"include", "include_next", "error", "warning", "pragma", "line"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i]);
        if (strncmp(t, kinds[i], n) == 0 && !is_ident(t[n])) {
            return true;
        }
    }
    return false;
}

/* Does code line contain identifier id as a use (not a member access, not a header name)? */
static bool line_uses(const char *code, const char *id) {
    if (textual_directive(code)) {
        return false;
    }
    size_t n = strlen(id);
    for (const char *p = strstr(code, id); p != NULL; p = strstr(p + 1, id)) {
        if (p > code && (is_ident(p[-1]) || p[-1] == '.' || (p[-1] == '>' && p - 1 > code && p[-2] == '-'))) {
            continue;
        }
        if (is_ident(p[n])) {
            continue;
        }
        return true;
    }
    return false;
}

/* The function whose body contains the line: the last definition header above it. */
static char *enclosing_function(const source *s, int line) {
    for (int l = line; l >= 1; l--) {
        const char *c = s->code[l];
        if (c == NULL || !is_ident(c[0]) || strchr(c, '(') == NULL) {
            continue;
        }
        const char *end = c + strlen(c);
        while (end > c && isspace((unsigned char)end[-1])) {
            end--;
        }
        if (end > c && end[-1] == ';') {
            continue;
        }
        const char *paren = strchr(c, '(');
        const char *q = paren;
        while (q > c && isspace((unsigned char)q[-1])) {
            q--;
        }
        const char *b = q;
        while (b > c && is_ident(b[-1])) {
            b--;
        }
        if (b == q || strncmp(c, "typedef", 7) == 0) {
            continue;
        }
        char *name = calloc(1, (size_t)(q - b) + 1);
        memcpy(name, b, (size_t)(q - b));
        return name;
    }
    return strdup("(file scope)");
}

static char *trimmed_copy(const char *b, const char *e) {
    while (b < e && isspace((unsigned char)*b)) {
        b++;
    }
    while (e > b && isspace((unsigned char)e[-1])) {
        e--;
    }
    char *r = calloc(1, (size_t)(e - b) + 1);
    memcpy(r, b, (size_t)(e - b));
    return r;
}

/* Parses "SAFETY: <id> -- <purpose> Relies on: <…> On failure: <…>" for identifier id. */
static bool parse_safety(const char *text, const char *id, site *st) {
    const char *p = strstr(text, "SAFETY:");
    if (p == NULL) {
        return false;
    }
    p += 7;
    while (*p == ' ') {
        p++;
    }
    size_t n = strlen(id);
    if (strncmp(p, id, n) != 0 || is_ident(p[n])) {
        return false;
    }
    p += n;
    while (*p == ' ') {
        p++;
    }
    if (strncmp(p, "--", 2) == 0) {
        p += 2;
    }
    const char *relies = strstr(p, "Relies on:");
    const char *failure = strstr(p, "On failure:");
    const char *end = p + strlen(p);
    st->purpose = trimmed_copy(p, relies != NULL ? relies : failure != NULL ? failure : end);
    st->relies = relies != NULL ? trimmed_copy(relies + 10, failure != NULL && failure > relies ? failure : end)
                                : strdup("");
    st->failure = failure != NULL ? trimmed_copy(failure + 11, end) : strdup("");
    st->complete = relies != NULL && failure != NULL && st->purpose[0] != '\0';
    return true;
}

static const char *source_name_for(const char *sym, char *buf, size_t len) {
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcmp(aliases[i][0], sym) == 0) {
            return aliases[i][1];
        }
    }
    size_t n = strlen(sym);
    if (strncmp(sym, "__", 2) == 0 && n > 6 && strcmp(sym + n - 4, "_chk") == 0) {
        snprintf(buf, len, "%.*s", (int)(n - 6), sym + 2);
        return buf;
    }
    return sym;
}

static void find_sites(symbol *sym, source *srcs, int nsrcs) {
    for (int f = 0; f < nsrcs; f++) {
        source *s = &srcs[f];
        if ((s->platforms & sym->platforms) == 0) {
            continue;
        }
        for (int l = 1; l <= s->nlines; l++) {
            if (s->code[l] == NULL || !line_uses(s->code[l], sym->source)) {
                continue;
            }
            if (sym->nsites == 64) {
                return;
            }
            site *st = &sym->sites[sym->nsites++];
            memset(st, 0, sizeof *st);
            st->file = strdup(s->rel);
            st->function = enclosing_function(s, l);
            st->line = l;
            /* The nearest SAFETY comment for this symbol ending on this line or up to SAFETY_REACH above. */
            for (int c = s->ncomments - 1; c >= 0; c--) {
                comment *cm = &s->comments[c];
                if (cm->last_line > l || cm->last_line < l - SAFETY_REACH) {
                    continue;
                }
                if (parse_safety(cm->text, sym->source, st)) {
                    st->commented = true;
                    break;
                }
            }
        }
    }
}

static void md_text(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '|') {
            fputs("\\|", out);
        } else {
            fputc(*s, out);
        }
    }
}

static void write_markdown(FILE *out, symbol *syms, int nsyms, int nsites, int missing) {
    fprintf(out, "# SAFETY audit\n\n");
    fprintf(out, "Every call that cordon makes into the operating system or a foreign library, and why it is safe.\n");
    fprintf(out, "Generated by `cordon audit --write SAFETY_AUDIT.md` from the `SAFETY:` comments in `src/sys/` and\n");
    fprintf(out, "the symbols that the compiled `src/sys/` objects import; the Win32 files (`src/sys/win32/`) with\n");
    fprintf(out, "the symbols listed in `src/sys/win32/imports.txt`, which the windows build checks against its\n");
    fprintf(out, "objects. Pure C library functions on `tools/pure-c-allowlist.txt` are left out. Do not edit by\n");
    fprintf(out, "hand: the tests regenerate it and fail when it differs or when a call site lacks its comment.\n\n");
    fprintf(out, "- External symbols: %d\n- Call sites: %d\n- Call sites without a complete SAFETY comment: %d\n\n",
            nsyms, nsites, missing);
    fprintf(out, "| Symbol | Purpose | Call sites |\n|---|---|---|\n");
    for (int i = 0; i < nsyms; i++) {
        fprintf(out, "| [`%s`](#%s) | ", syms[i].name, syms[i].name);
        md_text(out, syms[i].nsites > 0 && syms[i].sites[0].purpose ? syms[i].sites[0].purpose : "(not found)");
        fprintf(out, " | %d |\n", syms[i].nsites);
    }
    for (int i = 0; i < nsyms; i++) {
        symbol *s = &syms[i];
        fprintf(out, "\n## %s\n\n", s->name);
        if (strcmp(s->name, s->source) != 0) {
            fprintf(out, "Written in the source as `%s`.\n\n", s->source);
        }
        for (int j = 0; j < s->nsites; j++) {
            site *st = &s->sites[j];
            fprintf(out, "- `%s`, in `%s`", st->file, st->function);
            if (!st->commented) {
                fprintf(out, ": **MISSING SAFETY COMMENT**\n");
                continue;
            }
            fprintf(out, ": %s\n", st->purpose);
            fprintf(out, "  - *Relies on:* %s\n", st->relies[0] ? st->relies : "**MISSING**");
            fprintf(out, "  - *On failure:* %s\n", st->failure[0] ? st->failure : "**MISSING**");
        }
        if (s->nsites == 0) {
            fprintf(out, "- **NO CALL SITE FOUND in src/sys/** (used through a macro? add an alias to tools/cordon/audit.c)\n");
        }
    }
}

static bool same_as_file(const char *path, const char *text, size_t len) {
    size_t flen = 0;
    char *f = read_file(path, &flen);
    bool same = f != NULL && flen == len && memcmp(f, text, len) == 0;
    free(f);
    return same;
}

int cordon_cli_audit(int argc, char **argv) {
    const char *manifest_path = CORDON_CLI_DEFAULT_MANIFEST;
    const char *write_path = NULL, *check_path = NULL;
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--manifest") == 0 && i + 1 < argc) {
            manifest_path = argv[++i];
        } else if (strcmp(argv[i], "--write") == 0 && i + 1 < argc) {
            write_path = argv[++i];
        } else if (strcmp(argv[i], "--check") == 0 && i + 1 < argc) {
            check_path = argv[++i];
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else {
            fprintf(stderr, "usage: cordon audit [--manifest FILE] [--write FILE | --check FILE] [--quiet]\n");
            return 2;
        }
    }
    static manifest m;
    if (!read_manifest(manifest_path, &m)) {
        return 2;
    }
    strlist undefined = {0}, defined = {0}, allow = {0}, all_objects = {0}, safe_defined = {0};
    char allow_path[1200];
    snprintf(allow_path, sizeof allow_path, "%s/tools/pure-c-allowlist.txt", m.source_dir);
    for (int i = 0; i < m.sys_objects.count; i++) {
        strlist_add(&all_objects, m.sys_objects.items[i]);
    }
    for (int i = 0; i < m.safe_objects.count; i++) {
        strlist_add(&all_objects, m.safe_objects.items[i]);
    }
    if (!read_allowlist(allow_path, &allow) || !run_nm(m.nm, &m.sys_objects, true, &undefined) ||
        !run_nm(m.nm, &all_objects, false, &defined) || !run_nm(m.nm, &m.safe_objects, false, &safe_defined)) {
        fprintf(stderr, "cordon audit: could not read the symbols of the src/sys/ objects\n");
        return 2;
    }
    static source srcs[256];
    int nsrcs = 0;
    for (int i = 0; i < m.sys_sources.count && nsrcs < 256; i++) {
        parse_source(m.sys_sources.items[i], m.source_dir, &srcs[nsrcs]);
        srcs[nsrcs].path = m.sys_sources.items[i];
        srcs[nsrcs++].platforms = 1u;
    }
    /* A file built here and for another platform is one source with both bits. */
    for (int i = 0; i < m.other_sources.count; i++) {
        int f = 0;
        while (f < nsrcs && strcmp(srcs[f].path, m.other_sources.items[i]) != 0) {
            f++;
        }
        if (f == nsrcs) {
            if (nsrcs == 256) {
                continue;
            }
            parse_source(m.other_sources.items[i], m.source_dir, &srcs[nsrcs]);
            srcs[nsrcs].path = m.other_sources.items[i];
            nsrcs++;
        }
        srcs[f].platforms |= (unsigned)m.other_source_platform[i];
    }
    /* Every symbol with the platforms that import it: this build's from nm, the others' from their
     * lists. */
    static unsigned import_platforms[MAX_ITEMS];
    for (int i = 0; i < undefined.count; i++) {
        import_platforms[i] = 1u;
    }
    for (int i = 0; i < m.other_imports.count; i++) {
        FILE *lf = fopen(m.other_imports.items[i], "r");
        if (lf == NULL) {
            fprintf(stderr, "cordon audit: cannot open %s\n", m.other_imports.items[i]);
            return 2;
        }
        char line[512];
        while (fgets(line, sizeof line, lf) != NULL) {
            line[strcspn(line, " \t\r\n")] = '\0';
            if (line[0] == '\0' || line[0] == '#' || allowlisted(&allow, line)) {
                continue;
            }
            int k = 0;
            while (k < undefined.count && strcmp(undefined.items[k], line) != 0) {
                k++;
            }
            if (k == undefined.count) {
                if (k == MAX_ITEMS) {
                    continue;
                }
                strlist_add(&undefined, line);
                import_platforms[k] = 0;
            }
            import_platforms[k] |= (unsigned)m.other_imports_platform[i];
        }
        fclose(lf);
    }
    /* Sorted by name, each name keeping its platforms. */
    static int order[MAX_ITEMS];
    for (int i = 0; i < undefined.count; i++) {
        order[i] = i;
    }
    for (int i = 1; i < undefined.count; i++) {
        int v = order[i], j = i;
        while (j > 0 && strcmp(undefined.items[order[j - 1]], undefined.items[v]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    static symbol syms[MAX_ITEMS];
    int nsyms = 0, nsites = 0, missing = 0, unlocated = 0, interposed = 0;
    for (int oi = 0; oi < undefined.count; oi++) {
        const int i = order[oi];
        const char *name = undefined.items[i];
        /* A src/sys/ import that a safe object defines would bind to that safe code, not to the OS: the
         * call src/sys/ audits is not the call it makes. Only cordon's own functions may be defined
         * inside the library. */
        if ((import_platforms[i] & 1u) != 0 && strlist_has(&safe_defined, name) && strncmp(name, "cordon_", 7) != 0) {
            printf("  %s: imported by src/sys/ and defined by safe code, which would interpose on it\n", name);
            interposed++;
            continue;
        }
        if ((import_platforms[i] == 1u && strlist_has(&defined, name)) || allowlisted(&allow, name)) {
            continue;
        }
        char buf[256];
        symbol *s = &syms[nsyms++];
        s->name = strdup(name);
        s->source = strdup(source_name_for(name, buf, sizeof buf));
        s->platforms = import_platforms[i];
        find_sites(s, srcs, nsrcs);
        if (s->nsites == 0) {
            unlocated++;
        }
        for (int j = 0; j < s->nsites; j++) {
            nsites++;
            if (!s->sites[j].commented || !s->sites[j].complete) {
                missing++;
            }
        }
    }
    /* Inline assembly reaches the processor (and the kernel) with no symbol to show for it, so its
     * uses are found in the sources: each needs a `SAFETY: __asm__ --` comment like a call. */
    static const char *const asm_words[] = {"__asm__", "__asm", "asm"};
    for (size_t w = 0; w < sizeof asm_words / sizeof asm_words[0] && nsyms < MAX_ITEMS; w++) {
        symbol *s = &syms[nsyms];
        memset(s, 0, sizeof *s);
        s->name = strdup(asm_words[w]);
        s->source = strdup(asm_words[w]);
        s->platforms = ~0u;
        find_sites(s, srcs, nsrcs);
        if (s->nsites == 0) {
            free(s->name);
            free(s->source);
            continue;
        }
        nsyms++;
        for (int j = 0; j < s->nsites; j++) {
            nsites++;
            if (!s->sites[j].commented || !s->sites[j].complete) {
                missing++;
            }
        }
    }
    char *md = NULL;
    size_t mdlen = 0;
    FILE *mem = open_memstream(&md, &mdlen);
    if (mem == NULL) {
        return 2;
    }
    write_markdown(mem, syms, nsyms, nsites, missing);
    fclose(mem);

    int rc = 0;
    if (!quiet) {
        printf("cordon audit: %d external symbols, %d call sites in %d src/sys/ files (%d of other platforms), %d "
               "without a complete SAFETY comment\n",
               nsyms, nsites, nsrcs, nsrcs - m.sys_sources.count, missing);
    }
    for (int i = 0; i < nsyms; i++) {
        if (syms[i].nsites == 0) {
            printf("  %s: imported by src/sys/ objects%s but no use found in the sources\n", syms[i].name,
                   (syms[i].platforms & 1u) != 0 ? "" : " (as another platform's imports list says)");
        }
        for (int j = 0; j < syms[i].nsites; j++) {
            site *st = &syms[i].sites[j];
            if (!st->commented) {
                printf("  %s:%d: %s used in %s without a SAFETY: %s -- comment\n", st->file, st->line, syms[i].source,
                       st->function, syms[i].source);
            } else if (!st->complete) {
                printf("  %s:%d: SAFETY comment for %s lacks a purpose, 'Relies on:' or 'On failure:'\n", st->file,
                       st->line, syms[i].source);
            }
        }
    }
    if (missing > 0 || unlocated > 0 || interposed > 0) {
        rc = 1;
    }
    if (write_path != NULL) {
        FILE *out = fopen(write_path, "w");
        if (out == NULL || fwrite(md, 1, mdlen, out) != mdlen || fclose(out) != 0) {
            fprintf(stderr, "cordon audit: cannot write %s\n", write_path);
            rc = 2;
        } else if (!quiet) {
            printf("wrote %s\n", write_path);
        }
    }
    if (check_path != NULL) {
        if (!same_as_file(check_path, md, mdlen)) {
            printf("%s is stale: regenerate it with `cmake --build <build> --target safety-audit` and commit it\n",
                   check_path);
            rc = 1;
        } else if (!quiet) {
            printf("%s is current\n", check_path);
        }
    }
    free(md);
    strlist_free(&undefined);
    strlist_free(&defined);
    strlist_free(&allow);
    strlist_free(&all_objects);
    strlist_free(&safe_defined);
    return rc;
}
