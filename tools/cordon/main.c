/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — command-line tool: `cordon info`, `cordon version`, `cordon bench`, and in the build tree's
 * developer build (CORDON_CLI_AUDIT) `cordon audit`. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cordon/cordon.h"
#include "cordon_cli.h"

/* The architecture this tool and its library were compiled for (under an emulator, the emulated one). */
#if defined(__x86_64__) || defined(_M_X64)
#  define CORDON_CLI_ARCH "x86-64"
#elif defined(__aarch64__) || defined(_M_ARM64)
#  define CORDON_CLI_ARCH "aarch64"
#elif defined(__i386__) || defined(_M_IX86)
#  define CORDON_CLI_ARCH "x86"
#else
#  define CORDON_CLI_ARCH "unknown architecture"
#endif

static void usage(FILE *to) {
    fprintf(to,
            "usage: cordon <command> [options]\n"
            "  info                       version, platform, page sizes, CPUs, backends compiled in\n"
            "  version                    the library version (also --version)\n"
            "  bench [SUITE…] [--quick] [--json]\n"
            "                             benchmarks with baselines timed in the same run (bench --help: suites)\n"
#if defined(CORDON_CLI_AUDIT)
            "  audit [--manifest FILE] [--write FILE | --check FILE] [--quiet]\n"
            "                             the SAFETY audit of src/sys/ (exit 1 when a comment is missing);\n"
            "                             FILE defaults to this build tree's cordon-manifest.txt\n"
#elif defined(_WIN32)
            "(`audit` is a developer command of a Linux build tree's tool: it reads the objects with the\n"
            " host's nm, which a Windows program cannot run)\n"
#else
            "(`audit` is a developer command of the build tree's tool, build/tools/cordon; this installed\n"
            " tool has no benchmark peers compiled in: peer figures are built and run from the build tree)\n"
#endif
            "  help                       this text (also --help, -h)\n");
}

int cordon_cli_info(int argc, char **argv) {
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: cordon info\n");
        return 2;
    }
    cordon_system_info info;
    cordon_status st = cordon_system_info_get(&info);
    if (st != CORDON_OK) {
        char detail[256];
        cordon_format_os_error(detail, sizeof detail);
        fprintf(stderr, "cordon info: %s (%s)\n", cordon_status_str(st), detail);
        return 1;
    }
    printf("cordon %s\n", cordon_version_string());
    printf("platform:         %s %s\n", CORDON_CLI_ARCH, info.os_name);
    printf("os:               %s %s\n", info.os_name, info.os_release);
    printf("page size:        %zu bytes\n", info.page_size);
    if (info.huge_page_size != 0) {
        printf("huge pages:       %zu KiB transparent huge pages, mode %s\n", info.huge_page_size / 1024,
               info.huge_page_mode[0] ? info.huge_page_mode : "unknown");
    } else {
        printf("huge pages:       not available%s%s\n", info.huge_page_mode[0] ? ", mode " : "", info.huge_page_mode);
    }
    printf("cpus:             %u online, %u usable by this process\n", info.cpu_count_online, info.cpu_count_usable);
    printf("futex backend:    %s\n", info.futex_backend);
    printf("compute backends: %s\n", info.compute_backends);
    cordon_device_kind kinds[8];
    size_t nkinds = 0;
    if (cordon_device_kinds(kinds, 8, &nkinds) == CORDON_OK) {
        for (size_t i = 0; i < nkinds && i < 8; i++) {
            printf("device %-10s%s: %s\n", kinds[i].name, kinds[i].available ? "" : " (unavailable)",
                   kinds[i].description);
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "info") == 0) {
        return cordon_cli_info(argc - 2, argv + 2);
    }
#if defined(CORDON_CLI_AUDIT)
    if (strcmp(cmd, "audit") == 0) {
        return cordon_cli_audit(argc - 2, argv + 2);
    }
#endif
    if (strcmp(cmd, "bench") == 0) {
        return cordon_bench_main(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("cordon %s\n", cordon_version_string());
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "cordon: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
